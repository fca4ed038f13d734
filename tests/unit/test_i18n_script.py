"""scripts/i18n.py: ``extract`` adds the code's new ids and never drops an entry (another
branch's, not in this code yet); ``prune`` drops, by name, the entries no code uses."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
OTHERS = "an id another branch added, with its translation"


def _script(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("i18n_script", ROOT / "scripts" / "i18n.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    shutil.copytree(ROOT / "erp" / "translations", tmp_path / "translations",
                    ignore=shutil.ignore_patterns("*.mo"))
    monkeypatch.setattr(module, "TRANSLATIONS", tmp_path / "translations")
    return module


def test_extract_keeps_entries_the_code_does_not_use_and_prune_drops_them(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    i18n = _script(monkeypatch, tmp_path)
    zh = i18n.read("zh")
    used = {m.id for m in zh if m.id}
    zh.add(OTHERS, "另一分支加入的条目")
    i18n.write("zh", zh)
    dropped = sorted(used)[0]
    zh = i18n.read("zh")
    zh.delete(dropped)  # an id the code uses, missing from the catalogue
    i18n.write("zh", zh)

    i18n.extract()
    after = i18n.read("zh")
    assert after.get(OTHERS) is not None and after.get(OTHERS).string == "另一分支加入的条目"
    assert after.get(dropped) is not None, "the code's id is added back"
    assert {m.id for m in after if m.id} >= used
    assert "entries no code uses were kept" in capsys.readouterr().out

    i18n.prune()
    assert i18n.read("zh").get(OTHERS) is None
    assert f"zh: dropped {OTHERS!r}" in capsys.readouterr().out
    in_code = {m.id for m in i18n.extracted() if m.id}
    assert {m.id for m in i18n.read("zh") if m.id} >= in_code
