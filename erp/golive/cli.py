"""``flask --app erp import <kind> FILE [--company CODE] [--dry-run]``, ``import undo``,
``import template`` (and ``export``, erp.golive.exports)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session
from tqdm import tqdm

from erp.auth.roles import Actor
from erp.db import committed, in_transaction

USER_HELP = "the user the work is recorded for (default: $ERP_USER)"


def cli_actor(session: Any, username: str | None) -> Actor:
    """The actor a command acts as: ``--as`` or $ERP_USER, an active user."""
    from erp.auth.models import User
    from erp.auth.services import actor_for_user

    username = username or os.environ.get("ERP_USER")
    if not username:
        raise click.UsageError("name the user the import is recorded for: --as USER (or set ERP_USER)")
    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None or not user.active:
        raise click.ClickException(f"no active user {username}")
    return actor_for_user(user)


def company_id_of(session: Any, code: str | None) -> int | None:
    from erp.masterdata.models import Company

    if code is None:
        return None
    company_id = session.scalar(select(Company.id).where(Company.code == code))
    if company_id is None:
        raise click.ClickException(f"no company {code}")
    return company_id  # type: ignore[no-any-return]


@click.group("import", cls=AppGroup)
def import_group() -> None:
    """Go-live imports from XLSX or CSV (docs/go-live.md)."""


def _print_errors(errors: list[dict[str, Any]], lang: str, total: int) -> None:
    from erp.golive.messages import render_all

    for error in render_all(errors, lang):
        where = f"row {error['row']}" + (f", {error['header']}" if error.get("header") else "")
        value = f" [{error['value']}]" if error.get("value") not in (None, "") else ""
        click.echo(f"  {where}{value}: {error['reason']}", err=True)
    if total > len(errors):
        click.echo(f"  ... and {total - len(errors)} more", err=True)


def _make_import_command(kind_name: str) -> click.Command:
    from erp.golive.kinds import KINDS

    kind = KINDS[kind_name]

    @click.command(kind_name, help=f"Import {kind.title_en} ({kind.title_zh}) from FILE (XLSX or CSV).")
    @with_appcontext
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--company", "company_code", default=None, help="company code (company imports)")
    @click.option("--dry-run", is_flag=True, help="validate every row and write nothing")
    @click.option("--as", "username", default=None, help=USER_HELP)
    @click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
                  help="language of the row errors")
    @click.option("--date", "go_live_date", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                  help="go-live date (opening balances)")
    def command(file: Path, company_code: str | None, dry_run: bool, username: str | None, lang: str,
                go_live_date: Any) -> None:
        from erp.golive.jobs import job_kind_name
        from erp.jobs.models import Job, JobStatus
        from erp.jobs.runner import JobEnvironment, LiveProgress, run_job
        from erp.jobs.services import create_job

        ext = current_app.extensions["erp"]

        def queue(session: Session) -> int:
            actor = cli_actor(session, username)
            company_id = company_id_of(session, company_code)
            if kind.company_scoped and company_id is None:
                raise click.UsageError(f"the {kind.title_en} import is for one company: --company CODE")
            return create_job(session, actor, kind=job_kind_name(kind_name), company_id=company_id, params={
                "kind": kind_name, "path": str(file.resolve()), "file_name": file.name, "dry_run": dry_run,
                "go_live_date": go_live_date.date().isoformat() if go_live_date else None}).id

        job_id = committed(ext.session_factory, queue)
        bar = tqdm(total=None, unit="row", desc=f"{'checking' if dry_run else 'importing'} {file.name}",
                   file=sys.stderr, disable=None)

        def observe(state: LiveProgress) -> None:
            if state.rows_total is not None and bar.total != state.rows_total:
                bar.total = state.rows_total
            bar.n = state.rows_done
            bar.set_postfix(errors=state.error_count, refresh=False)
            bar.refresh()

        status = run_job(JobEnvironment(ext.settings, ext.engine, ext.session_factory), job_id, observer=observe)
        bar.close()
        with ext.session_factory() as session:
            job = session.get(Job, job_id)
            assert job is not None
            if job.errors:
                click.echo(f"{job.error_count} error(s):", err=True)
                _print_errors(job.errors, lang, job.error_count)
            result = job.result or {}
            for notice in result.get("notices", [])[:50]:
                click.echo(f"  row {notice['row']}: {notice['code']} {notice}", err=True)
            if status == JobStatus.SUCCEEDED:
                verb = "dry run: nothing written" if dry_run else f"committed as import {result.get('batch_id')}"
                click.echo(f"{kind_name}: {result.get('rows')} rows, {result.get('error_count')} error(s), "
                           f"{result.get('counts')}; {verb} (job {job_id})")
                if dry_run and result.get("error_count"):
                    raise SystemExit(1)
                return
            raise click.ClickException(f"{kind_name}: {job.message} (job {job_id})")

    return command


@import_group.command("undo")
@click.argument("batch_id", type=int)
@click.option("--as", "username", default=None, help=USER_HELP)
def import_undo(batch_id: int, username: str | None) -> None:
    """Undo committed import BATCH_ID while nothing depends on what it wrote."""
    from erp.errors import DomainError
    from erp.golive.framework import undo_import
    from erp.golive.kinds import KINDS
    from erp.golive.models import ImportBatch

    ext = current_app.extensions["erp"]

    def undo(session: Session) -> Any:
        actor = cli_actor(session, username)
        batch = session.get(ImportBatch, batch_id)
        if batch is None:
            raise click.ClickException(f"no import {batch_id}")
        return undo_import(session, actor, KINDS[batch.kind], batch_id).summary

    try:
        summary = committed(ext.session_factory, undo)
    except DomainError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"import {batch_id} undone: {summary.get('undone')}")


@import_group.command("template")
@click.argument("kind")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def import_template(kind: str, out: Path) -> None:
    """Write the template of import KIND to OUT (.xlsx or .csv)."""
    from erp.golive.kinds import KINDS
    from erp.golive.templates import csv_template, xlsx_template

    if kind not in KINDS:
        raise click.UsageError(f"no import {kind}; one of: {', '.join(KINDS)}")
    out.write_bytes(csv_template(KINDS[kind]) if out.suffix.lower() == ".csv" else xlsx_template(KINDS[kind]))
    click.echo(f"template written to {out}")


def register(app_cli: Any) -> None:
    from erp.golive.kinds import KINDS

    for name in KINDS:
        import_group.add_command(_make_import_command(name))
    app_cli.add_command(import_group)
    app_cli.add_command(export_command)


@click.command("export")
@click.argument("report")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--company", "company_code", default=None, help="company code")
@click.option("--warehouse", "warehouse_code", default=None, help="warehouse code (stock)")
@click.option("--period", default=None, help="YYYY-MM (variance allocation, journal, trial balance)")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="key date (stock, ageing, receivables)")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="header language")
@click.option("--as", "username", default=None, help=USER_HELP)
@with_appcontext
def export_command(report: str, out: Path, company_code: str | None, warehouse_code: str | None,
                   period: str | None, as_of: Any, lang: str, username: str | None) -> None:
    """Export REPORT (stock, valuation, variance_allocation, journal, trial_balance, ageing,
    receivables) to OUT: .csv or .xlsx by its suffix. Rows are streamed, never all held."""
    from erp.errors import DomainError
    from erp.golive.exports import REPORTS, csv_chunks, rows_of, write_xlsx
    from erp.golive.export_api import build_source
    from erp.masterdata.models import Warehouse

    if report not in REPORTS:
        raise click.UsageError(f"no report {report}; one of: {', '.join(REPORTS)}")
    spec = REPORTS[report]
    ext = current_app.extensions["erp"]
    params: dict[str, Any] = {}
    with ext.session_factory() as session:
        actor = cli_actor(session, username)
        if company_code is not None:
            params["company_id"] = company_id_of(session, company_code)
        if warehouse_code is not None:
            params["warehouse_id"] = session.scalar(select(Warehouse.id).where(Warehouse.code == warehouse_code))
            if params["warehouse_id"] is None:
                raise click.ClickException(f"no warehouse {warehouse_code}")
        if period is not None:
            params["period"] = period
        if as_of is not None:
            params["as_of"] = as_of.date()
        session.rollback()
        try:
            source = in_transaction(session, lambda: build_source(session, actor, spec, params, ext.settings))
        except DomainError as exc:
            raise click.ClickException(exc.detail) from exc

        def export() -> int:
            counted = [0]

            def rows() -> Any:
                for row in tqdm(rows_of(session, source), unit="row", desc=f"exporting {report}", file=sys.stderr,
                                disable=None):
                    counted[0] += 1
                    yield row

            if out.suffix.lower() == ".csv":
                with out.open("wb") as handle:
                    for chunk in csv_chunks(spec, rows(), lang):
                        handle.write(chunk)
            else:
                write_xlsx(spec, rows(), lang, str(out))
            return counted[0]

        # Not retried: the file is written as the rows stream (a rerun would start it again).
        count = in_transaction(session, export, retry=False)
    click.echo(f"{report}: {count} rows written to {out}")
