"""Hypothesis profiles: ``ci`` (the default: every property test bounded, as CI runs it) and
``nightly`` (many more examples, for a long run), chosen by ``HEYI_HYPOTHESIS_PROFILE``:

    HEYI_HYPOTHESIS_PROFILE=nightly bash scripts/test.sh tests/service/test_close_allocation_properties.py

A test that sets its own number of examples asks ``examples(ci=..., nightly=...)`` for it, so
that its CI run stays as bounded as it was while the nightly run goes further. The nightly
profile also prints the blob that reproduces a failure (``@reproduce_failure``).
"""

from __future__ import annotations

import os

from hypothesis import settings

PROFILES = ("ci", "nightly")
PROFILE = os.environ.get("HEYI_HYPOTHESIS_PROFILE", "ci")
if PROFILE not in PROFILES:
    raise RuntimeError(f"HEYI_HYPOTHESIS_PROFILE={PROFILE!r}: known profiles are {', '.join(PROFILES)}")

settings.register_profile("ci", settings.get_profile("default"))
settings.register_profile("nightly", max_examples=1000, print_blob=True)
settings.load_profile(PROFILE)


def examples(*, ci: int, nightly: int) -> int:
    """The number of examples a property test runs under the active profile."""
    return nightly if PROFILE == "nightly" else ci
