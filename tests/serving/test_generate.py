"""The group-sized data set's generator (bench/generate.py) at a tiny scale on PostgreSQL:
what it loads passes the stock check, the exposure check and every trial balance, and
those checks do fail on books that are off."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from bench import generate

pytestmark = pytest.mark.postgres

SCALE = 0.002  # 2 companies, 40 materials, 2,000 movements, 1,000 invoices


@pytest.fixture(scope="module")
def generated() -> Iterator[tuple[str, int]]:
    """A database of its own beside the test database, generated once for the module and
    dropped afterwards; yields its URL and the generator's exit status."""
    base = os.environ["ERP_TEST_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    url = f"{base}_gen"
    status = generate.main(["--database-url", url, "--scale", str(SCALE), "--seed", "7", "--fresh"])
    yield url, status
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(base.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def scalar(url: str, sql: str) -> Any:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchone()[0]  # type: ignore[index]


def test_generated_books_pass_the_stock_exposure_and_trial_balance_checks(generated: tuple[str, int]) -> None:
    url, status = generated
    assert status == 0
    size = generate.Size.scaled(SCALE)
    assert scalar(url, "SELECT count(*) FROM stock_movements") == size.movements
    assert scalar(url, "SELECT count(*) FROM invoices") == size.invoices
    assert scalar(url, "SELECT count(*) FROM companies") == size.companies
    assert scalar(url, "SELECT count(*) FROM warehouses") == 3 * size.companies
    # eleven months closed through the service, the last one open
    assert scalar(url, "SELECT count(*) FROM accounting_periods WHERE status = 'closed'") == 11 * size.companies
    assert scalar(url, "SELECT string_agg(DISTINCT period, ',') FROM accounting_periods WHERE status = 'open'") \
        == "2026-11"
    # receivables in the ledger are the open invoices
    assert scalar(url, "SELECT sum(amount) FROM journal_lines WHERE account_code = '1122'") == \
        scalar(url, "SELECT sum(open_amount) FROM invoices")


def test_every_user_signs_in_with_the_documented_token(generated: tuple[str, int]) -> None:
    url, _ = generated
    import hashlib

    digest = hashlib.sha256(generate.token_of("clerk_c01", 7).encode()).hexdigest()
    assert scalar(url, f"SELECT u.username FROM api_tokens t JOIN users u ON u.id = t.user_id "
                       f"WHERE t.token_digest = '{digest}'") == "clerk_c01"
    assert scalar(url, "SELECT count(DISTINCT role) FROM users") == len(generate.Role)


def test_checks_fail_on_books_that_are_off(generated: tuple[str, int]) -> None:
    url, _ = generated
    users = generate.user_rows(generate.Size.scaled(SCALE).companies)
    with psycopg.connect(url) as conn:
        balance = conn.execute("SELECT min(id) FROM stock_balances").fetchone()[0]  # type: ignore[index]
        line = conn.execute("SELECT min(id) FROM journal_lines WHERE company_id = 1").fetchone()[0]  # type: ignore[index]
        customer = conn.execute("SELECT min(customer_id) FROM customer_exposures").fetchone()[0]  # type: ignore[index]
        # the journal refuses changes (a trigger); the test damages it as only a superuser could
        conn.execute("SET session_replication_role = replica")
        conn.execute("UPDATE stock_balances SET quantity = quantity + 1 WHERE id = %s", (balance,))
        conn.execute("UPDATE journal_lines SET amount = amount + 0.01 WHERE id = %s", (line,))
        conn.execute("UPDATE customer_exposures SET open_invoices = open_invoices + 1, exposure = exposure + 1 WHERE customer_id = %s",
                     (customer,))
    try:
        failures = generate.check(url, users, generate.Phases())
    finally:
        with psycopg.connect(url) as conn:
            conn.execute("SET session_replication_role = replica")
            conn.execute("UPDATE stock_balances SET quantity = quantity - 1 WHERE id = %s", (balance,))
            conn.execute("UPDATE journal_lines SET amount = amount - 0.01 WHERE id = %s", (line,))
            conn.execute("UPDATE customer_exposures SET open_invoices = open_invoices - 1, exposure = exposure - 1 WHERE customer_id = %s",
                         (customer,))
    assert any("stock check" in failure for failure in failures)
    assert any("check-exposure" in failure for failure in failures)
    assert any("trial balance of C01" in failure for failure in failures)
    assert any("1 journal entries do not balance" in failure for failure in failures)
