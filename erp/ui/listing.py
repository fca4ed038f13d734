"""Server-side lists: page, page size, search text and sort order read from the query string."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from flask import request

PAGE_SIZES = (20, 50, 100)
MAX_PAGE = 100_000


@dataclass(frozen=True)
class ListArgs:
    page: int = 1
    page_size: int = 20
    q: str = ""
    sort: str = ""
    desc: bool = False

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    @classmethod
    def from_request(cls, sortable: tuple[str, ...] = (), default_sort: str = "", default_desc: bool = False
                     ) -> ListArgs:
        """The list's arguments; anything unknown or absurd falls back to the defaults."""
        args = request.args

        def number(name: str, default: int) -> int:
            try:
                return int(args.get(name, default))
            except (TypeError, ValueError):
                return default

        page = min(max(number("page", 1), 1), MAX_PAGE)
        size = number("size", PAGE_SIZES[0])
        sort = args.get("sort", "")
        if sort not in sortable:
            sort, desc = default_sort, default_desc
        else:
            desc = args.get("dir") == "desc"
        return cls(page, size if size in PAGE_SIZES else PAGE_SIZES[0], args.get("q", "").strip()[:100], sort, desc)

    def pages(self, total: int) -> int:
        return max(1, -(-total // self.page_size))

    def query(self, **changes: Any) -> dict[str, Any]:
        """The query string of this list with ``changes`` (for pager and sort links), keeping
        the page's other filters."""
        params = {k: v for k, v in request.args.items() if k not in ("page", "size", "q", "sort", "dir")}
        state = replace(self, **{k: v for k, v in changes.items() if k in self.__dataclass_fields__})
        params.update({k: v for k, v in changes.items() if k not in self.__dataclass_fields__})
        params.update(page=state.page, size=state.page_size)
        if state.q:
            params["q"] = state.q
        if state.sort:
            params["sort"] = state.sort
            params["dir"] = "desc" if state.desc else "asc"
        return {k: v for k, v in params.items() if v not in ("", None)}

    def sort_query(self, column: str) -> dict[str, Any]:
        """Sorting by ``column``: ascending first, a second click descending."""
        desc = self.sort == column and not self.desc
        return self.query(sort=column, desc=desc, page=1)
