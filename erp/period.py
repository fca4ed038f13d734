"""An accounting period: one calendar month, written ``YYYY-MM`` (会计期间).

Pure code: no database, no Flask. A ``Period`` is a ``str`` (``"2026-11"``), so it is
stored, compared and sent as the text it always was (text order is month order), and it
carries the calendar arithmetic every module needs in one place: the period of a date, the
months before and after, the first and last day.
"""

from __future__ import annotations

import datetime as dt
import re

from erp.messages import N_

_PATTERN = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")

# How every refusal words a period that is not one: on the API, a page and an import's row.
NOT_A_PERIOD = N_("must be a period written YYYY-MM")


class Period(str):
    """A month of the books, ``YYYY-MM``; ``Period("2026-13")`` is a ``ValueError``."""

    __slots__ = ()

    def __new__(cls, text: str) -> Period:
        if isinstance(text, Period):
            return text
        if not isinstance(text, str) or not _PATTERN.fullmatch(text):
            raise ValueError(f"not an accounting period (YYYY-MM): {text!r}")
        return super().__new__(cls, text)

    @classmethod
    def of(cls, day: dt.date) -> Period:
        """The period ``day`` falls in."""
        return cls(f"{day.year:04d}-{day.month:02d}")

    @property
    def year(self) -> int:
        return int(self[:4])

    @property
    def month(self) -> int:
        return int(self[5:7])

    def next(self) -> Period:
        """The month after."""
        if self.month == 12:
            return Period(f"{self.year + 1:04d}-01")
        return Period(f"{self.year:04d}-{self.month + 1:02d}")

    def previous(self) -> Period:
        """The month before."""
        if self.month == 1:
            return Period(f"{self.year - 1:04d}-12")
        return Period(f"{self.year:04d}-{self.month - 1:02d}")

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def last_day(self) -> dt.date:
        return self.next().first_day - dt.timedelta(days=1)

    def __repr__(self) -> str:
        return f"Period({str.__repr__(self)})"
