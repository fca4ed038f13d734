"""Imports over HTTP and the CLI: templates, a queued job with progress and row errors in the
caller's language, committed imports and undo."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.masterdata.models import Material
from tests.golive.helpers import write_csv
from tests.world import ApiClient, World, problem

HEADER = ["code", "name_zh", "name_en", "material_type", "unit_code", "procurement_scope"]


def _upload(api: ApiClient, path: Path, **form: Any) -> Any:
    query = "&".join(f"{k}={str(v).lower()}" for k, v in form.items())
    return api.post(f"/api/v1/imports/materials?{query}", data={"file": (io.BytesIO(path.read_bytes()), path.name)},
                    content_type="multipart/form-data")


def _finished(app: Flask, api: ApiClient, response: Any, lang: str = "zh") -> dict[str, Any]:
    assert response.status_code == 202, response.get_json()
    job = response.get_json()
    assert response.headers["Location"] == job["status_url"]
    app.extensions["erp_jobs"].wait(job["id"], timeout=60)
    body = api.get(job["status_url"], headers={"Accept-Language": lang}).get_json()
    assert body["status"] in ("succeeded", "failed"), body
    return body  # type: ignore[no-any-return]


def test_every_import_has_a_template_with_both_languages_an_example_and_a_column_sheet(api: ApiClient) -> None:
    kinds = api.as_("steward").get("/api/v1/imports").get_json()
    assert [k["name"] for k in kinds][:4] == ["warehouses", "materials", "suppliers", "customers"]
    for kind in kinds:
        response = api.as_("steward").get(kind["template_url"])
        assert response.status_code == 200
        workbook = load_workbook(io.BytesIO(response.data))
        data, columns = workbook.worksheets
        header = [c.value for c in data[1]]
        assert header == [c["header"] for c in kind["columns"]]
        assert all(" / " in h for h in header), "every header names the column in Chinese and English"
        assert len(list(data.iter_rows(min_row=2, values_only=True))) == 1, "one example row"
        assert columns.max_row == len(kind["columns"]) + 1
        csv_template = api.as_("steward").get(kind["template_url"] + "?format=csv")
        assert csv_template.data.startswith("\ufeff".encode()) and csv_template.data.decode("utf-8-sig").count("\n") == 2


def test_a_dry_run_job_reports_row_errors_in_the_callers_language(
        app: Flask, api: ApiClient, world: World, tmp_path: Path, session_factory: sessionmaker[Session]) -> None:
    path = write_csv(tmp_path / "m.csv", [HEADER, ["M-1", "甲", "A", "raw", "KG", "local"],
                                          ["M-2", "乙", "B", "raw", "BOX", "local"]])
    steward = api.as_("steward")
    body = _finished(app, steward, _upload(steward, path, dry_run=True))
    assert body["status"] == "succeeded" and body["result"]["dry_run"] is True
    assert (body["rows_done"], body["rows_total"], body["error_count"]) == (2, 2, 1)
    (error,) = body["errors"]
    assert (error["row"], error["column"], error["value"]) == (3, "unit_code", "BOX")
    assert error["reason"] == "没有编码为 BOX 的计量单位"
    english = steward.get(body["status_url"], headers={"Accept-Language": "en"}).get_json()
    assert english["errors"][0]["reason"] == "no unit with code BOX"
    with session_factory() as session:
        assert session.scalar(select(Material.id).where(Material.code == "M-1")) is None


def test_a_commit_job_with_errors_fails_and_a_clean_one_commits_then_undoes(
        app: Flask, api: ApiClient, world: World, tmp_path: Path, session_factory: sessionmaker[Session]) -> None:
    steward = api.as_("steward")
    bad = write_csv(tmp_path / "bad.csv", [HEADER, ["M-1", "甲", "A", "raw", "BOX", "local"]])
    body = _finished(app, steward, _upload(steward, bad))
    assert body["status"] == "failed" and body["error_count"] == 1
    assert body["result"]["problem"]["type"].endswith("/import-has-errors")
    good = write_csv(tmp_path / "good.csv", [HEADER, ["M-1", "甲", "A", "raw", "KG", "local"]])
    body = _finished(app, steward, _upload(steward, good))
    assert body["status"] == "succeeded" and body["result"]["committed"] is True
    batch_id = body["result"]["batch_id"]
    again = _finished(app, steward, _upload(steward, good))
    assert again["status"] == "failed" and again["result"]["problem"]["type"].endswith("/already-imported")
    (batch,) = steward.get("/api/v1/imports/batches?kind=materials").get_json()
    assert (batch["id"], batch["rows"], batch["status"]) == (batch_id, 1, "committed")
    undone = steward.post(f"/api/v1/imports/batches/{batch_id}/undo")
    assert undone.status_code == 200 and undone.get_json()["status"] == "undone"
    problem(steward.post(f"/api/v1/imports/batches/{batch_id}/undo"), 409, "import-not-committed")
    with session_factory() as session:
        assert session.scalar(select(Material.id).where(Material.code == "M-1")) is None


def test_imports_are_refused_up_front_to_roles_that_may_not_write(api: ApiClient, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "m.csv", [HEADER, ["M-1", "甲", "A", "raw", "KG", "local"]])
    problem(_upload(api.as_("clerk_a"), path), 403, "role-not-allowed")
    problem(api.as_("steward").get("/api/v1/imports/nothing/template"), 404)


def test_the_cli_imports_with_a_dry_run_and_prints_the_row_errors(
        app: Flask, world: World, tmp_path: Path, session_factory: sessionmaker[Session]) -> None:
    runner = app.test_cli_runner()
    bad = write_csv(tmp_path / "m.csv", [HEADER, ["M-1", "甲", "A", "raw", "KG", "local"],
                                         ["M-2", "乙", "B", "raw", "BOX", "local"]])
    result = runner.invoke(args=["import", "materials", str(bad), "--dry-run", "--as", "steward", "--lang", "en"])
    assert result.exit_code == 1, result.output
    assert "row 3, 计量单位 / Unit [BOX]: no unit with code BOX" in result.output
    good = write_csv(tmp_path / "g.csv", [HEADER, ["M-1", "甲", "A", "raw", "KG", "local"]])
    result = runner.invoke(args=["import", "materials", str(good), "--as", "steward"])
    assert result.exit_code == 0, result.output
    assert "committed as import" in result.output
    with session_factory() as session:
        assert session.scalar(select(Material.id).where(Material.code == "M-1")) is not None
    result = runner.invoke(args=["import", "warehouses", str(good), "--as", "steward"])
    assert result.exit_code != 0 and "--company" in result.output


def test_docs_list_every_column_of_every_template() -> None:
    from erp.golive.kinds import KINDS

    text = (Path(__file__).resolve().parents[2] / "docs" / "go-live.md").read_text(encoding="utf-8")
    missing = [f"{k.name}.{c.key}" for k in KINDS.values() for c in k.columns if f"{c.template_header} (`{c.key}`)" not in text]
    assert missing == []


def test_an_import_upload_may_be_larger_than_other_requests(app: Flask, api: ApiClient, tmp_path: Path) -> None:
    """An import takes a file up to ERP_MAX_UPLOAD_BYTES (64 MiB), not the 1 MiB of a JSON request."""
    path = tmp_path / "big.csv"
    # One material and 1.7 MiB of empty rows (read past): the body is beyond 1 MiB.
    path.write_bytes(("\r\n".join([",".join(HEADER), "M-BIG,大,Big,raw,KG,local"]) + "\r\n"
                      + ",,,,,\r\n" * 300_000).encode())
    assert path.stat().st_size > 1024 * 1024 + 512 * 1024
    steward = api.as_("steward")
    body = _finished(app, steward, _upload(steward, path, dry_run=True))
    assert body["status"] == "succeeded" and body["result"]["dry_run"] is True, body
    assert (body["rows_done"], body["error_count"]) == (1, 0), body
