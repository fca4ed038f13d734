"""Command-line entry points: ``flask --app erp <group> <command>``."""

from __future__ import annotations

import datetime as dt

import click
from flask import Flask, current_app

from erp import migrate


def _extension():  # noqa: ANN202 - ErpExtension, imported lazily to avoid a cycle
    return current_app.extensions["erp"]


@click.group("db")
def db_group() -> None:
    """Database schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    migrate.upgrade(_extension().engine, revision)
    click.echo(f"database at {revision}")


@click.group("demo")
def demo_group() -> None:
    """Demo data."""


@demo_group.command("load")
@click.option("--seed", default=20261127, show_default=True, help="random seed; the same seed gives the same group")
@click.option("--if-empty", is_flag=True, help="do nothing when the group already exists")
def demo_load(seed: int, if_empty: bool) -> None:
    """Build a believable pharmaceutical group and print the demo users' credentials."""
    from erp.demo.loader import load_demo

    ext = _extension()
    with ext.session_factory() as session:
        report = load_demo(session, seed=seed, if_empty=if_empty)
    click.echo(report)


@click.group("credit")
def credit_group() -> None:
    """Group credit control."""


@credit_group.command("suggest-limits")
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="key date of the 12-month window (default: today)")
def credit_suggest_limits(as_of: dt.datetime | None) -> None:
    """Recompute every customer's suggested credit limit (the limit model, docs/credit.md)."""
    from erp.credit.exposure import CreditPolicy
    from erp.credit.limits import suggest_limits

    ext = _extension()
    with ext.session_factory() as session, session.begin():
        run = suggest_limits(session, None, as_of=as_of.date() if as_of else dt.date.today(),
                             starting_limit=CreditPolicy.from_settings(ext.settings).starting_limit)
        click.echo(f"suggestion run {run.id} as of {run.as_of}: {run.customers} customers, "
                   f"{run.with_history} with history, {run.customers - run.with_history} at the starting limit")


@credit_group.command("check-exposure")
@click.option("--repair", is_flag=True, help="write the figures rebuilt from the documents back")
def credit_check_exposure(repair: bool) -> None:
    """Rebuild every customer's exposure from invoices, orders and payments and report drift."""
    from erp.credit.exposure import exposure_drift, repair_exposure

    ext = _extension()
    with ext.session_factory() as session, session.begin():
        drift = repair_exposure(session) if repair else exposure_drift(session)
    for row in drift:
        click.echo(f"customer {row.customer_id}: invoices {row.invoices_drift}, orders {row.orders_drift}, "
                   f"unapplied {row.unapplied_drift} (documents minus stored)")
    verdict = "repaired" if repair and drift else "found"
    click.echo(f"{len(drift)} customers with drift {verdict}" if drift else "no drift: exposure matches the documents")
    if drift and not repair:
        raise SystemExit(1)


def register_commands(app: Flask) -> None:
    app.cli.add_command(db_group)
    app.cli.add_command(demo_group)
    app.cli.add_command(credit_group)
