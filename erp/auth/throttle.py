"""Sign-in throttling: failed sign-ins counted per user name and per client address.

Built on ``limits``, the rate-limiting engine of Flask-Limiter (which also guards the
sign-in endpoints per address at the HTTP edge, see ``erp.web``), with moving windows of
growing length, so a guesser is locked out for longer the longer they keep trying:

- per user name: 5 failures a minute, 10 in 15 minutes, 20 an hour, 50 a day;
- per client address: 20 failures a minute, 100 an hour (many names from one place).

While a window is full every attempt is refused, the right password included, with the
number of seconds until the oldest failure leaves the window (``Retry-After``). A
successful sign-in clears the name's counters (not the address's). Counting happens in
the sign-in service, so every sign-in path (the API's token, the pages' cookie sign-in)
shares one throttle. Storage is Flask-Limiter's: ``memory://`` per process by default;
several server processes share counters through ``ERP_RATELIMIT_STORAGE_URI``
(``redis://...``).
"""

from __future__ import annotations

import math
import time
import unicodedata

from limits import RateLimitItem, parse_many
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

USER_LIMITS = "5/minute;10/15 minutes;20/hour;50/day"
ADDRESS_LIMITS = "20/minute;100/hour"


class SignInThrottle:
    """Counts failed sign-ins; says how long a name or an address must wait."""

    def __init__(self, storage: Storage | str = "memory://", *, per_user: str = USER_LIMITS,
                 per_address: str = ADDRESS_LIMITS) -> None:
        self.storage = storage_from_string(storage) if isinstance(storage, str) else storage
        self.window = MovingWindowRateLimiter(self.storage)
        self.per_user: list[RateLimitItem] = parse_many(per_user)
        self.per_address: list[RateLimitItem] = parse_many(per_address)

    @staticmethod
    def _name_key(username: str) -> str:
        # "Admin", "admin " and a decomposed form are one name to a guesser.
        return unicodedata.normalize("NFKC", username).strip().casefold()[:64]

    def _keys(self, username: str, address: str | None) -> list[tuple[RateLimitItem, str, str]]:
        keys = [(limit, "sign-in-user", self._name_key(username)) for limit in self.per_user]
        if address:
            keys += [(limit, "sign-in-address", address) for limit in self.per_address]
        return keys

    def retry_after(self, username: str, address: str | None) -> int | None:
        """Seconds until this name may try again from this address, or None if it may now."""
        waits = []
        for limit, kind, key in self._keys(username, address):
            if not self.window.test(limit, kind, key):
                reset_at = self.window.get_window_stats(limit, kind, key).reset_time
                waits.append(max(1, math.ceil(reset_at - time.time())))
        return max(waits) if waits else None

    def failed(self, username: str, address: str | None) -> None:
        """Count a failed sign-in against the name and the address."""
        for limit, kind, key in self._keys(username, address):
            self.window.hit(limit, kind, key)

    def succeeded(self, username: str) -> None:
        """A correct password clears the name's failures (the address keeps its count)."""
        for limit in self.per_user:
            self.window.clear(limit, "sign-in-user", self._name_key(username))
