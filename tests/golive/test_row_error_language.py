"""Row errors read in the user's language, including the fields' own refusals (lengths,
bounds, code formats, why a unified social credit code is invalid), not only the import's."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from erp.golive import messages
from tests.golive.helpers import run_import, write_csv
from tests.world import World

HEADER = ["code", "name_zh", "name_en", "material_type", "unit_code", "procurement_scope", "storage_max_humidity",
          "over_receipt_tolerance_pct"]


def _reasons(app: Flask, errors: list[dict[str, object]], lang: str) -> dict[tuple[object, object], str]:
    with app.app_context():
        return {(e["row"], e["column"]): str(e["reason"]) for e in messages.render_all(errors, lang)}


def test_field_refusals_read_in_chinese_and_in_english(
        app: Flask, world: World, tmp_path: Path, session_factory: sessionmaker[Session]) -> None:
    """Lengths, bounds, places and the code's format each carry their template (erp.schemas):
    nothing is read back from English."""
    path = write_csv(tmp_path / "m.csv", [HEADER,
        ["m 1", "甲", "A", "raw", "KG", "local", "", ""],  # row 2: not a code
        ["M-2", "乙" * 201, "B", "raw", "KG", "local", "", ""],  # row 3: name too long
        ["M-3", "丙", "C", "raw", "KG", "local", "150", ""],  # row 4: humidity above 100
        ["M-4", "丁", "D", "raw", "KG", "local", "", "2.555"],  # row 5: three decimals
    ])
    outcome, seen = run_import(session_factory, world.actors["steward"], "materials", path, dry_run=True)
    assert not isinstance(outcome, Exception), outcome
    assert _reasons(app, seen.errors, "zh") == {
        (2, "code"): "须为 1-32 个字符：A-Z、0-9、“.”、“_”或“-”，以字母或数字开头",
        (3, "name_zh"): "长度须为 1 至 200 个字符",
        (4, "storage_max_humidity"): "须大于 0 且不超过 100",  # a percentage above 0: 0 itself is refused
        (5, "over_receipt_tolerance_pct"): "最多允许 2 位小数",
    }
    assert _reasons(app, seen.errors, "en") == {
        (2, "code"): "must be 1-32 characters: A-Z, 0-9, '.', '_' or '-', starting with a letter or digit",
        (3, "name_zh"): "must be 1 to 200 characters long",
        (4, "storage_max_humidity"): "must be above 0 and at most 100",
        (5, "over_receipt_tolerance_pct"): "at most 2 decimal places are allowed",
    }


def test_why_a_uscc_is_invalid_reads_in_chinese(
        app: Flask, world: World, tmp_path: Path, session_factory: sessionmaker[Session]) -> None:
    path = write_csv(tmp_path / "s.csv", [["code", "uscc", "name_zh", "name_en"],
                                          ["S-1", "91310000000000001X", "甲", "A"],  # wrong check character
                                          ["S-2", "9131000000000000", "乙", "B"]])  # 16 characters
    outcome, seen = run_import(session_factory, world.actors["steward"], "suppliers", path, dry_run=True)
    assert not isinstance(outcome, Exception), outcome
    assert _reasons(app, seen.errors, "zh") == {
        (2, "uscc"): "不是有效的统一社会信用代码（校验码不正确）",
        (3, "uscc"): "不是有效的统一社会信用代码（长度不对，应为 18 位）",
    }


def test_a_period_in_the_wrong_form_reads_as_before(
        app: Flask, world: World, tmp_path: Path, session_factory: sessionmaker[Session]) -> None:
    """A standard price's period not written YYYY-MM: the row error's Chinese is the one wording
    of a period every refusal uses ("须为 YYYY-MM 格式的期间": the API's and the pages' too)."""
    path = write_csv(tmp_path / "p.csv", [["material_code", "period", "price"], ["EXC-STAR", "2026-13", "1"]])
    outcome, seen = run_import(session_factory, world.actors["cost_a"], "standard_prices", path,
                               company_id=world.companies["A"], dry_run=True)
    assert not isinstance(outcome, Exception), outcome
    assert _reasons(app, seen.errors, "zh") == {(2, "period"): "须为 YYYY-MM 格式的期间"}
    assert _reasons(app, seen.errors, "en") == {(2, "period"): "must be a period written YYYY-MM"}


def test_opening_stock_refusals_read_in_chinese(
        app: Flask, world: World, tmp_path: Path, session_factory: sessionmaker[Session]) -> None:
    """Finding 117: a warehouse of another company is refused in words, not an empty reason."""
    import datetime as dt

    path = write_csv(tmp_path / "o.csv", [["仓库编码", "物料编码", "批号", "生产日期", "有效期至", "数量"],
                                          ["CB-AMB", "EXC-STAR", "B6", "2026-06-01", "2028-06-01", "1"]])
    outcome, seen = run_import(session_factory, world.actors["cost_a"], "opening_stock", path,
                               company_id=world.companies["A"], dry_run=True, go_live_date=dt.date(2026, 12, 1))
    assert not isinstance(outcome, Exception), outcome
    assert _reasons(app, seen.errors, "zh") == {(2, "warehouse_code"): "仓库 CB-AMB 不属于公司 CA"}


def test_a_refusal_of_the_import_itself_names_the_kind_in_chinese(
        app: Flask, world: World, tmp_path: Path, session_factory: sessionmaker[Session]) -> None:
    """Finding 117: the role refusal and a missing company name the import in the reader's
    language, not 'importing materials'."""
    from erp.golive.errors import CompanyRequired
    from erp.auth.errors import RoleNotAllowed
    from erp.ui.i18n import render_in

    path = write_csv(tmp_path / "m.csv", [HEADER, ["M-1", "甲", "A", "raw", "KG", "local", "", ""]])
    refused, _ = run_import(session_factory, world.actors["cost_a"], "materials", path, dry_run=True)
    assert isinstance(refused, RoleNotAllowed), refused
    missing, _ = run_import(session_factory, world.actors["cost_a"], "opening_stock", path, dry_run=True)
    assert isinstance(missing, CompanyRequired), missing
    with app.app_context():
        role_zh, company_zh = render_in(refused.message, "zh"), render_in(missing.message, "zh")
        assert "导入物料" in role_zh and "importing" not in role_zh, role_zh
        assert "期初库存" in company_zh and "opening" not in company_zh, company_zh
        assert "importing materials" in render_in(refused.message, "en")
