"""Every confirmation step (``confirm_posting``) says what its own action cannot undo: the
caller sets the warning, as no one sentence is true of all of them (an order's cancellation
posts nothing to the books; a posting is only corrected by another posting)."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "erp"
CALL = re.compile(r"\{\{\s*confirm_posting\((.*?)\)\s*\}\}", re.S)


def test_every_confirmation_step_sets_its_own_warning() -> None:
    calls = {f"{path.relative_to(TEMPLATES)}:{page[:found.start()].count(chr(10)) + 1}": found.group(1)
             for path in TEMPLATES.rglob("*.html") for page in [path.read_text(encoding="utf-8")]
             for found in CALL.finditer(page)}
    assert len(calls) >= 16
    assert [where for where, arguments in calls.items() if "warning=" not in arguments] == []
