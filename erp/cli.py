"""Command-line entry points: ``flask --app erp <group> <command>``."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from erp import migrate
from erp.clock import business_today
from erp.db import committed


def _extension():  # noqa: ANN202 - ErpExtension, imported lazily to avoid a cycle
    return current_app.extensions["erp"]


def _company_ids(session: Session, codes: tuple[str, ...]) -> list[int] | None:
    """The ids of the companies named by ``codes``; None (every company) when none is named.
    Refuses, naming them, codes no company has."""
    from sqlalchemy import select

    from erp.masterdata.models import Company

    if not codes:
        return None
    found = dict(session.execute(select(Company.code, Company.id).where(Company.code.in_(codes))).all())
    unknown = sorted(set(codes) - set(found))
    if unknown:
        raise click.ClickException(f"no company {', '.join(unknown)}")
    return list(found.values())


def _repair(company_codes: tuple[str, ...], left: Callable[[Session, list[int] | None], list[Any]],
            write: Callable[[Session, Any, int], list[Any]] | None, username: str | None, *,
            refused: str, read_again: bool = True) -> tuple[list[Any], list[Any], list[Any]]:
    """A repair command's run, in one transaction: what is ``left`` in the companies named by
    ``company_codes`` (every company when none); with ``write`` (the command was asked to
    act), ``write(session, actor, company_id)`` for each company with something left, as
    ``username``, then what is left read again (``read_again``; a run at the same time may
    have written some). Returns (found, written, left). A refusal (a domain error) is the
    command's error, ``refused`` saying what was not done; the caller prints and ends with
    ``_exit_if_left``."""
    from sqlalchemy import select

    from erp.auth.models import User
    from erp.auth.services import actor_for_user
    from erp.errors import DomainError

    def run(session: Session) -> tuple[list[Any], list[Any], list[Any]]:
        company_ids = _company_ids(session, company_codes)
        found = left(session, company_ids)
        written: list[Any] = []
        if write is None or not found:
            return found, written, found
        user = session.scalars(select(User).where(User.username == username)).one_or_none()
        if user is None:
            raise click.ClickException(f"no user {username}")
        actor = actor_for_user(user)
        for company_id in sorted({row.company_id for row in found}):
            written += write(session, actor, company_id)
        return found, written, left(session, company_ids) if read_again else found

    try:
        return committed(_extension().session_factory, run)
    except DomainError as exc:
        raise click.ClickException(f"refused, {refused}: {exc.detail}") from exc


def _exit_if_left(left: list[Any]) -> None:
    """A repair command exits 1 while something is left to repair as it ends."""
    if left:
        raise SystemExit(1)


@click.group("db", cls=AppGroup)
def db_group() -> None:
    """Database schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    migrate.upgrade(_extension().engine, revision)
    click.echo(f"database at {revision}")


@click.group("demo", cls=AppGroup)
def demo_group() -> None:
    """Demo data."""


@demo_group.command("load")
@click.option("--seed", default=20261127, show_default=True, help="random seed; the same seed gives the same group")
@click.option("--if-empty", is_flag=True, help="do nothing when the group already exists")
def demo_load(seed: int, if_empty: bool) -> None:
    """Build a believable pharmaceutical group and print the demo users' credentials."""
    from erp.demo.loader import DemoAlreadyLoaded, load_demo

    ext = _extension()
    with ext.session_factory() as session:
        try:
            report = load_demo(session, seed=seed, if_empty=if_empty)
        except DemoAlreadyLoaded as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(report)


@click.group("stock", cls=AppGroup)
def stock_group() -> None:
    """The stock ledger and its balances."""


@stock_group.command("check")
@click.option("--repair", is_flag=True, help="rebuild every balance from the ledger when drift is found")
def stock_check(repair: bool) -> None:
    """Recompute balances and period totals from the ledger and report any drift (expected: none)."""
    from erp.inventory.queries import balance_drift, balances_of_other_companies, period_totals_drift
    from erp.posting.stock import rebuild_balances

    ext = _extension()

    def check(session: Session) -> tuple[list[Any], list[Any], list[Any]]:
        drift, totals = balance_drift(session), period_totals_drift(session)
        if (drift or totals) and repair:
            rebuild_balances(session)
        return drift, totals, balances_of_other_companies(session)

    drift, totals, stranded = committed(ext.session_factory, check)
    for row in drift:
        click.echo(f"drift: company {row.company_id} warehouse {row.warehouse_id} material {row.material_id} "
                   f"batch {row.batch_id} {row.status}: quantity {row.quantity_drift}, value {row.value_drift}")
    for row in totals:
        click.echo(f"drift: company {row.company_id} period {row.period} material {row.material_id} "
                   f"{row.close_class} {row.account}: quantity {row.quantity_drift}, value {row.value_drift}, "
                   f"variance {row.variance_drift}")
    for row in stranded:
        click.echo(f"stranded: company {row.company_id} holds {row.quantity} (value {row.value}) of material "
                   f"{row.material_id} batch {row.batch_id} {row.status} in warehouse {row.warehouse_code}, "
                   f"which belongs to company {row.warehouse_company_id}")
    if (drift or totals) and repair:
        click.echo("balances and period totals rebuilt from the ledger")
    click.echo(f"{len(drift)} balance(s) drifted from the ledger")
    click.echo(f"{len(totals)} period total(s) drifted from the ledger")
    click.echo(f"{len(stranded)} balance(s) held in a warehouse of another company")
    # A rebuild repairs drift from the ledger; stock stranded under another company needs a
    # person (move the warehouse back, or transfer the stock), so it always fails the check.
    if stranded or ((drift or totals) and not repair):
        raise SystemExit(1)


@click.group("costing", cls=AppGroup)
def costing_group() -> None:
    """Month-end close."""


@costing_group.command("close")
@click.argument("period")
@click.option("--company", "company_codes", multiple=True, help="company code (repeat); default: every company")
@click.option("--as", "username", required=True, help="the cost accountant the close is recorded for")
def costing_close(period: str, company_codes: tuple[str, ...], username: str) -> None:
    """Bring some or all active companies' books up to PERIOD (YYYY-MM, or ``previous``: the
    month before today's in Beijing), closing each company's open periods in order, in one
    transaction: all or none. Prints per company what it closed."""
    from sqlalchemy import select

    from erp.auth.models import User
    from erp.auth.services import actor_for_user
    from erp.costing.close import close_periods
    from erp.errors import DomainError
    from erp.masterdata.models import Company
    from erp.period import Period

    try:
        period = Period.of(business_today()).previous() if period == "previous" else Period(period)
    except ValueError:
        raise click.ClickException(f"period {period!r}: expected YYYY-MM or previous") from None
    ext = _extension()

    def close(session: Session) -> tuple[list[Any], dict[int, str]]:
        user = session.scalars(select(User).where(User.username == username)).one_or_none()
        if user is None:
            raise click.ClickException(f"no user {username}")
        company_ids = _company_ids(session, company_codes)
        results = close_periods(session, actor_for_user(user), company_ids=company_ids, period=period)
        return results, dict(session.execute(select(Company.id, Company.code)).all())

    try:
        results, codes = committed(ext.session_factory, close)
    except DomainError as exc:
        raise click.ClickException(f"{period}: refused, nothing closed: {exc.detail}") from exc
    for result in results:
        done = f"closed now {', '.join(result.closed_now)}" if result.closed_now else "already closed"
        click.echo(f"{codes[result.company_id]} {period}: {result.status.value} ({done}), {result.materials} "
                   f"materials, variance allocated {result.variance_allocated}, remaining {result.variance_remaining}")


@click.group("credit", cls=AppGroup)
def credit_group() -> None:
    """Group credit control."""


@credit_group.command("suggest-limits")
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="key date of the data (default: today); the parameters are those in force today")
@click.option("--chunk", type=click.IntRange(100, 1_000_000), default=10_000, show_default=True,
              help="customers per statement (progress is reported after each)")
def credit_suggest_limits(as_of: dt.datetime | None, chunk: int) -> None:
    """Recompute every customer's suggested credit limit (the limit model, docs/credit.md), in one transaction."""
    from erp.credit.limits import suggest_limits

    ext = _extension()
    with click.progressbar(length=1, label="customers", show_pos=True, file=sys.stderr) as bar:
        def progress(done: int, everyone: int) -> None:
            bar.length = everyone
            bar.update(done - bar.pos)

        run = committed(ext.session_factory, lambda session: suggest_limits(
            session, None, as_of=as_of.date() if as_of else business_today(), chunk=chunk, progress=progress))
    click.echo(f"suggestion run {run.id} as of {run.as_of} (model version {run.model_version_id}): "
               f"{run.customers} customers, {run.with_history} with history, {run.held} held, "
               f"in {run.seconds} s")


@credit_group.command("backtest")
@click.option("--from", "first_month", required=True, help="first month end to replay, YYYY-MM")
@click.option("--to", "last_month", required=True, help="last month end to replay, YYYY-MM (ended before today)")
@click.option("--horizon", type=click.IntRange(1, 36), default=12, show_default=True,
              help="months after each month end in which going over 90 days past due counts")
@click.option("--details", is_flag=True, help="list every customer that went bad, with the model's decision")
def credit_backtest(first_month: str, last_month: str, horizon: int, details: bool) -> None:
    """Replay the limit model at each month end and report what it would have prevented (docs/credit.md)."""
    from erp.credit.backtest import run_backtest
    from erp.credit.exposure import CreditPolicy
    from erp.errors import DomainError

    ext = _extension()
    with click.progressbar(length=1, label="month ends", show_pos=True, file=sys.stderr) as bar:
        def progress(done: int, everyone: int) -> None:
            bar.length = everyone
            bar.update(done - bar.pos)

        try:
            result = committed(ext.session_factory, lambda session: run_backtest(
                session, None, first_month=first_month, last_month=last_month,
                policy=CreditPolicy.from_settings(ext.settings), today=business_today(), horizon_months=horizon,
                progress=progress))
        except DomainError as exc:
            raise click.ClickException(exc.detail) from exc
    click.echo(f"limit model version {result.model_version}, horizon {result.horizon_months} months, "
               f"known until {result.known_until}")
    click.echo("month end   customers  held  limited       withheld  went bad  held  limited  "
               "over 90 days  after month end  covered")
    for m in result.months:
        click.echo(f"{m.month_end}  {m.customers:9d}  {m.held:4d}  {m.limited:7d}  {m.withheld:13,.2f}  "
                   f"{m.went_bad:8d}  {m.went_bad_held:4d}  {m.went_bad_limited:7d}  {m.overdue_amount:12,.2f}  "
                   f"{m.overdue_after:15,.2f}  {m.covered:,.2f}")
    after = result.total("overdue_after")
    share = f"{result.total('covered') / after * 100:.1f} %" if after else "-"
    click.echo(f"customers that went more than 90 days past due: {result.went_bad} (each at the last month end "
               f"before): held {result.count('held')}, limited {result.count('limited')}, not limited "
               f"{result.count('not_limited')}; over 90 days {result.total('overdue_amount'):,.2f}, of which on "
               f"invoices after that month end {after:,.2f}, covered {result.total('covered'):,.2f} ({share}); "
               f"{result.seconds} s")
    if details:
        for c in result.bad_customers:
            click.echo(f"  {c.customer_code} at {c.month_end}: score {c.score} {c.risk_class}, suggested "
                       f"{c.suggested_limit:,.2f}{' (hold)' if c.hold else ''} against approved "
                       f"{c.approved_limit:,.2f}: {c.decision}; over 90 days from {c.went_bad_on}: "
                       f"{c.overdue_amount:,.2f} ({c.overdue_after:,.2f} after), covered {c.covered:,.2f}")


@credit_group.command("snapshot-receivables")
@click.option("--months", type=click.IntRange(1, 120), default=12, show_default=True,
              help="how many month ends before the current month")
def credit_snapshot_receivables(months: int) -> None:
    """Write the month-end receivable snapshots the CIO's trend reads (run after each month end, e.g. nightly)."""
    from erp.credit.exposure import CreditPolicy
    from erp.credit.jobs import snapshot_month_ends

    ext = _extension()
    written = snapshot_month_ends(ext.session_factory, None, months=months,
                                  policy=CreditPolicy.from_settings(ext.settings))
    click.echo(f"receivable snapshots written for {len(written)} month ends: "
               + ", ".join(day.isoformat() for day in written))


@credit_group.command("check-exposure")
@click.option("--repair", is_flag=True, help="write the figures rebuilt from the documents back")
def credit_check_exposure(repair: bool) -> None:
    """Rebuild every customer's exposure from invoices, orders and payments and report drift."""
    from erp.credit.exposure import exposure_drift, repair_exposure

    ext = _extension()
    drift = committed(ext.session_factory, repair_exposure if repair else exposure_drift)
    for row in drift:
        click.echo(f"customer {row.customer_id}: invoices {row.invoices_drift}, orders {row.orders_drift}, "
                   f"unapplied {row.unapplied_drift} (documents minus stored)")
    verdict = "repaired" if repair and drift else "found"
    click.echo(f"{len(drift)} customers with drift {verdict}" if drift else "no drift: exposure matches the documents")
    if drift and not repair:
        raise SystemExit(1)


@click.group("purchasing", cls=AppGroup)
def purchasing_group() -> None:
    """Purchasing: contracts against the purchasing rights."""


@purchasing_group.command("check-contracts")
@click.option("--on", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="the day (default: today in Beijing)")
def purchasing_check_contracts(day: dt.datetime | None) -> None:
    """List draft and active company contract lines for a central material that no steward's
    exception of the company covers from today to the contract's end (they price nothing;
    docs/purchasing.md); exits 1 while there is one."""
    from erp.purchasing.services import company_lines_outside_rights

    on = day.date() if day else business_today()
    found = committed(_extension().session_factory, lambda session: company_lines_outside_rights(session, today=on))
    for line in found:
        click.echo(f"{line.contract_number} ({line.status}, {line.company_code}): {line.material_code} is central "
                   f"and no exception of {line.company_code} covers {line.uncovered}")
    click.echo(f"{len(found)} company contract line(s) outside the purchasing rights" if found
               else "no company contract prices a central material outside the purchasing rights")
    _exit_if_left(found)


@click.group("quality", cls=AppGroup)
def quality_group() -> None:
    """Quality: the daily expiry block."""


@quality_group.command("block-expired")
@click.option("--on", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="the day (default: today in Beijing)")
@click.option("--as", "username", required=True, help="the quality user the blocks are recorded for")
def quality_block_expired(day: dt.datetime | None, username: str) -> None:
    """Block every batch whose expiry date has come (unrestricted and quarantined stock to blocked)."""
    from sqlalchemy import select

    from erp.auth.models import User
    from erp.auth.services import actor_for_user
    from erp.errors import DomainError
    from erp.quality.expiry import block_expired

    ext = _extension()
    on = day.date() if day else business_today()

    def block(session: Session) -> list[int]:
        user = session.scalars(select(User).where(User.username == username)).one_or_none()
        if user is None:
            raise click.ClickException(f"no user {username}")
        return block_expired(session, actor_for_user(user), on=on)

    try:
        documents = committed(ext.session_factory, block)
    except DomainError as exc:
        raise click.ClickException(f"refused, nothing blocked: {exc.detail}") from exc
    click.echo(f"{on}: {len(documents)} blocking documents")


@quality_group.command("check-silence")
@click.option("--as", "username", required=True, help="the quality user the check runs as")
def quality_check_silence(username: str) -> None:
    """Flag warehouses whose loggers have gone silent for longer than their logging interval."""
    from sqlalchemy import select

    from erp.auth.models import User
    from erp.auth.services import actor_for_user
    from erp.db import utcnow
    from erp.errors import DomainError
    from erp.quality.monitoring import flag_silent_warehouses

    ext = _extension()

    def check(session: Session) -> list[tuple[int, str]]:
        user = session.scalars(select(User).where(User.username == username)).one_or_none()
        if user is None:
            raise click.ClickException(f"no user {username}")
        gaps = flag_silent_warehouses(session, actor_for_user(user), now=utcnow())
        return [(gap.warehouse_id, f"{gap.minutes}") for gap in gaps]

    try:
        silent = committed(ext.session_factory, check)
    except DomainError as exc:
        raise click.ClickException(f"refused: {exc.detail}") from exc
    for warehouse_id, minutes in silent:
        click.echo(f"warehouse {warehouse_id}: no readings for {minutes} minutes")
    click.echo(f"{len(silent)} silent warehouses")


@click.group("payables", cls=AppGroup)
def payables_group() -> None:
    """Payables: supplier invoices."""


@payables_group.command("price-differences")
@click.option("--company", "company_codes", multiple=True, help="company code (repeat); default: every company")
@click.option("--write", is_flag=True, help="write the missing ledger rows as corrections in the open period")
@click.option("--on", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="with --write: the corrections' date, in an open period (default: today in Beijing)")
@click.option("--as", "username", default=None, help="with --write: the cost accountant they are recorded for")
def payables_price_differences(company_codes: tuple[str, ...], write: bool, day: dt.datetime | None,
                               username: str | None) -> None:
    """List, per company and period, the supplier invoices and credit memos whose price
    difference on 1404 has no price_difference row in the stock ledger (posted before
    migration 0040), so no close spreads it; with --write, write those rows (no journal
    entry: the invoice's is right) dated in the open period, all companies or none.
    Exits 1 when rows are still missing as it ends (docs/payables.md)."""
    from erp.payables.price_differences import missing_price_differences, write_missing_price_differences

    if write and not username:
        raise click.ClickException("--write needs --as USER (a cost accountant of the companies)")
    on = day.date() if day else business_today()
    missing, written, left = _repair(
        company_codes, missing_price_differences,
        (lambda session, actor, company_id: write_missing_price_differences(session, actor, company_id, on))
        if write else None, username, refused="nothing written")
    totals: dict[tuple[str, str], Any] = {}
    for m in missing:
        click.echo(f"{m.company_code} {m.period} {m.document_kind} {m.number} (id {m.invoice_id}, supplier "
                   f"{m.supplier_code}, posted {m.posting_date}) material {m.material_code}: 1404 {m.amount} "
                   "not in the stock ledger")
        totals[(m.company_code, m.period)] = totals.get((m.company_code, m.period), 0) + m.amount
    for (company, period), total in sorted(totals.items()):
        click.echo(f"{company} {period}: {total} on 1404 not in the stock ledger")
    for m, document_id in written:
        click.echo(f"written: {m.company_code} {m.document_kind} {m.number} material {m.material_code}: variance "
                   f"{m.amount} dated {on} (stock document {document_id})")
    corrected = {m.invoice_id for m, _ in written}
    click.echo(f"{len({m.invoice_id for m in missing})} invoice(s) without their price difference in the ledger, "
               f"{len(corrected)} corrected")
    if write and missing and not left:
        by_another = {m.invoice_id for m in missing} - corrected
        if by_another:
            click.echo(f"{len(by_another)} written by another run at the same time")
    _exit_if_left(left)


@payables_group.command("wip-price-differences")
@click.option("--company", "company_codes", multiple=True, help="company code (repeat); default: every company")
@click.option("--dry-run", is_flag=True, help="list the corrections that would be posted, posting nothing")
@click.option("--write", is_flag=True, help="post the corrections (Dr 6405.02 / Cr 5001.01) dated --on")
@click.option("--on", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="the corrections' date, in an open period (default: today in Beijing)")
@click.option("--as", "username", default=None, help="with --write or --dry-run: the cost accountant they are for")
def payables_wip_price_differences(company_codes: tuple[str, ...], dry_run: bool, write: bool,
                                   day: dt.datetime | None, username: str | None) -> None:
    """List, per company, what supplier invoices' price differences left on 5001.01 work in
    process under the rule before 1 December 2026 (goods production orders consumed in a
    closed period), with the invoice, material, orders and amount; with --write, move each to
    6405.02 input price variance, one entry per invoice dated --on (an open period), all
    companies or none; --dry-run: what --write would post. Run once after upgrading. Exits 1
    when amounts are still left as it ends (docs/payables.md)."""
    from erp.payables.wip_price_differences import correct_orphans, orphans

    if write and dry_run:
        raise click.ClickException("--write or --dry-run, not both")
    if (write or dry_run) and not username:
        raise click.ClickException("--write and --dry-run need --as USER (a cost accountant of the companies)")
    on = day.date() if day else business_today()
    found, corrections, left = _repair(
        company_codes, orphans,
        (lambda session, actor, company_id: correct_orphans(session, actor, company_id, on, dry_run=dry_run))
        if write or dry_run else None, username, refused="nothing posted", read_again=not dry_run)
    for o in found:
        click.echo(f"{o.company_code} {o.document_kind} {o.number} (id {o.invoice_id}, supplier {o.supplier_code}, "
                   f"posted {o.posting_date}) line {', '.join(map(str, o.invoice_lines))} material {o.material_code}, "
                   f"orders {', '.join(o.orders)}: 5001.01 {o.amount}")
    verb = "would post" if dry_run else "posted"
    for c in corrections:
        entry = "" if c.entry_id is None else f" (journal entry {c.entry_id})"
        for o in c.orphans:
            click.echo(f"{verb}: {o.company_code} {o.number} material {o.material_code}: Dr 6405.02 {o.amount} / "
                       f"Cr 5001.01 {o.amount} dated {c.posting_date}{entry}")
    click.echo(f"{len(found)} amount(s) left on 5001.01 by invoices' price differences, "
               f"{sum(len(c.orphans) for c in corrections)} {'to correct' if dry_run else 'corrected'}")
    _exit_if_left(left)


def register_commands(app: Flask) -> None:
    from erp.golive.cli import register as register_golive
    from erp.jobs.cli import jobs_group

    app.cli.add_command(jobs_group)
    register_golive(app.cli)
    app.cli.add_command(db_group)
    app.cli.add_command(demo_group)
    app.cli.add_command(stock_group)
    app.cli.add_command(costing_group)
    app.cli.add_command(credit_group)
    app.cli.add_command(quality_group)
    app.cli.add_command(purchasing_group)
    app.cli.add_command(payables_group)
