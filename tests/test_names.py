"""Every name the code and the tests use is defined: a name left behind by a rename (a
refusal class renamed in one module, still named in a test's rarely taken branch) fails
here, not only when that branch runs. pyflakes reads the files; nothing is imported."""

from __future__ import annotations

import ast
from pathlib import Path

from pyflakes import checker, messages

ROOT = Path(__file__).resolve().parents[1]
UNDEFINED = (messages.UndefinedName, messages.UndefinedLocal, messages.UndefinedExport)


def test_no_module_uses_a_name_it_does_not_define() -> None:
    found = []
    for folder in ("erp", "tests", "bench", "scripts", "migrations"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = str(path.relative_to(ROOT))
            tree = ast.parse(path.read_text(encoding="utf-8"), relative)
            found += [str(message) for message in checker.Checker(tree, filename=relative).messages
                      if isinstance(message, UNDEFINED)]
    assert found == []
