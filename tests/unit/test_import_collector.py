"""Imports run with less cyclic garbage collection, and give the collector back as it was."""

from __future__ import annotations

import gc

from erp.golive.framework import IMPORT_GC_THRESHOLD, collecting_less


def test_imports_collect_less_while_any_runs_and_restore_the_collector_after_the_last() -> None:
    threshold, frozen = gc.get_threshold(), gc.get_freeze_count()
    with collecting_less():
        assert gc.get_threshold() == (IMPORT_GC_THRESHOLD, *threshold[1:])
        assert gc.get_freeze_count() > frozen, "what was alive before the import is left out of collections"
        with collecting_less():  # a second import, in another thread of the same process
            pass
        assert gc.get_threshold()[0] == IMPORT_GC_THRESHOLD, "the first import still runs"
    assert gc.get_threshold() == threshold and gc.get_freeze_count() == frozen


def test_the_collector_is_restored_when_an_import_fails() -> None:
    threshold, frozen = gc.get_threshold(), gc.get_freeze_count()
    try:
        with collecting_less():
            raise RuntimeError("the import failed")
    except RuntimeError:
        pass
    assert gc.get_threshold() == threshold and gc.get_freeze_count() == frozen
