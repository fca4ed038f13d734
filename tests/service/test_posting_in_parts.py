"""A bulk posting written in parts (``BulkPosting``: ledger rows and balances part by part,
the journal entry and period totals once) writes the same rows as ``post`` of the whole."""

from __future__ import annotations

from typing import Any

import pytest

from erp.posting import Movement
from erp.posting.bulk import BulkPosting
from tests.conftest import FreshDatabase
from tests.service import test_posting_bulk as whole
from tests.service.test_posting_bulk import _books

pytestmark = pytest.mark.postgres


def _post_in_parts(session: Any, posting: Any) -> Any:
    """``post`` for the whole posting, written as three parts of its movements."""
    parts = BulkPosting(session, company_id=posting.company_id, posting_date=posting.posting_date,
                        user_id=posting.user_id, document=posting.document, memo=posting.memo)
    movements: list[Movement] = list(posting.movements)
    for part in (movements[:2], movements[2:3], movements[3:]):
        parts.add(part)
    return parts.finish(posting.journal)


def test_a_posting_in_parts_writes_the_rows_post_writes_for_the_whole(
        fresh_database: FreshDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    one_by_one, _ = _books(fresh_database, bulk=False)
    monkeypatch.setattr(whole, "post_bulk", _post_in_parts)
    in_parts, _ = _books(fresh_database, bulk=True)
    assert all(in_parts.values())
    for table in one_by_one:
        assert in_parts[table] == one_by_one[table], table
    # Three parts, one document (beside the world's receipt) and one entry for it.
    assert sorted(str(row[0]).split("-")[0] for row in in_parts["stock_documents"]) == ["ADJ", "GR"]
    assert len(in_parts["journal_entries"]) == 2
