"""Command-line entry points: ``flask --app erp <group> <command>``."""

from __future__ import annotations

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


def register_commands(app: Flask) -> None:
    app.cli.add_command(db_group)
    app.cli.add_command(demo_group)
