"""Generated receivables, shared by bench/credit_exposure.py and bench/generate.py: a
year of invoices skewed over the customers (a few large distributors, many small
pharmacies), the payments that settled most of them, open sales orders, and every
customer's exposure row and approved limit built from those documents with SQL.

Loaded with COPY; the rows are consistent by construction, so the caller may skip the
per-row foreign-key triggers while loading (``SET session_replication_role = replica``).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
from stdnum.cn import uscc

TERMS = (30, 45, 60, 90)


@dataclass(frozen=True)
class Receivables:
    """How many of each, and the key date the history ends on."""

    customers: int
    invoices: int
    companies: int
    open_orders: int
    as_of: dt.date
    # the warehouse a company's sales order lines ship from
    warehouse_of: Callable[[int], int] = lambda company: company
    # sales order lines sell materials 1..products
    products: int = 10
    # customers drawn Zipf-like (rank = floor((N+1)^u): the top 1 % carry about half the
    # invoices) instead of the credit benchmark's milder N * u^2 (the top 1 % carry a tenth)
    zipf: bool = False


def valid_uscc(prefix: str, number: int) -> str:
    """A unified social credit code (统一社会信用代码) with a correct check digit:
    ``prefix`` (8 characters) and ``number`` padded to nine digits, then the check digit."""
    body = f"{prefix}{number:09d}"[:17]
    return body + uscc.calc_check_digit(body)


def customer_terms(rng: random.Random, spec: Receivables) -> list[int]:
    """Every customer's payment terms in days."""
    return [rng.choice(TERMS) for _ in range(spec.customers)]


def copy_customers(conn: psycopg.Connection[Any], terms: list[int]) -> None:
    """The customers, with valid credit codes, their terms as given."""
    now = dt.datetime.now(dt.UTC)
    with conn.cursor().copy("COPY customers (id, code, uscc, name_zh, name_en, payment_terms_days, blocked, active, "
                            "created_at, updated_at) FROM STDIN") as copy:
        for number, days in enumerate(terms, start=1):
            copy.write_row((number, f"K{number:06d}", valid_uscc("91330100", number), f"客户{number}",
                            f"Customer {number}", days, False, True, now, now))


def skewed_customer(rng: random.Random, customers: int, *, zipf: bool = False) -> int:
    """A customer id, 1 most often: a few large distributors carry most of the volume."""
    if zipf:
        return min(customers, int((customers + 1) ** rng.random()))
    return int(customers * rng.random() ** 2) + 1


def invoices_and_payments(rng: random.Random, spec: Receivables,
                          terms: list[int]) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """(invoice row, payment or None) for the invoices of the 12 months up to ``as_of``;
    older invoices are mostly paid."""
    as_of = spec.as_of
    for invoice_id in range(1, spec.invoices + 1):
        customer = skewed_customer(rng, spec.customers, zipf=spec.zipf)
        company = rng.randrange(1, spec.companies + 1)
        invoice_date = as_of - dt.timedelta(days=rng.randrange(0, 365))
        due = invoice_date + dt.timedelta(days=terms[customer - 1])
        amount = Decimal(min(2_000_000.0, max(100.0, rng.lognormvariate(9.3, 1.0)))).quantize(Decimal("0.01"))
        overdue_days = (as_of - due).days
        paid_share = 0.96 if overdue_days > 30 else 0.6 if overdue_days > 0 else 0.1
        payment = None
        open_amount = amount
        if rng.random() < paid_share:
            paid = amount if rng.random() < 0.9 else (amount * Decimal(rng.choice(("0.3", "0.5")))).quantize(
                Decimal("0.01"))
            paid_on = min(as_of, max(invoice_date, due + dt.timedelta(days=rng.randrange(-15, 45))))
            open_amount = amount - paid
            payment = (paid, paid_on, (paid_on - due).days)
        status = "open" if open_amount == amount else "paid" if open_amount == 0 else "partially_paid"
        yield (invoice_id, company, customer, invoice_date, due, amount, open_amount, status), payment


def copy_invoices(conn: psycopg.Connection[Any], rng: random.Random, spec: Receivables, terms: list[int],
                  *, user_id: int = 1) -> None:
    """The invoices, one payment per paid invoice and its application, numbered as
    erp.credit.services.receivables_number does (AR-C01-2026-000001, RC-...: companies are
    coded C01, C02, ...), each series set to continue after them."""
    now = dt.datetime.now(dt.UTC)
    cur = conn.cursor()
    payments: list[tuple[Any, ...]] = []
    series: dict[str, int] = {}

    def numbered(prefix: str, company: int, day: dt.date) -> str:
        key = f"{prefix}-C{company:02d}-{day.year}"
        series[key] = series.get(key, 0) + 1
        return f"{key}-{series[key]:06d}"

    with cur.copy("COPY invoices (id, company_id, customer_id, invoice_date, due_date, amount, open_amount, "
                  "status, created_by, created_at, net_amount, document_number) FROM STDIN") as copy:
        for row, payment in invoices_and_payments(rng, spec, terms):
            # totals without a separate VAT: net = amount
            copy.write_row((*row, user_id, now, row[5], numbered("AR", row[1], row[3])))
            if payment is not None:
                payments.append((row[0], row[1], row[2], *payment))
    with cur.copy("COPY payments (id, company_id, customer_id, payment_date, amount, unapplied_amount, "
                  "created_by, created_at, document_number) FROM STDIN") as copy:
        for number, (_, company, customer, paid, paid_on, _) in enumerate(payments, start=1):
            copy.write_row((number, company, customer, paid_on, paid, 0, user_id, now,
                            numbered("RC", company, paid_on)))
    cur.executemany("INSERT INTO document_sequences (series, next_value) VALUES (%s, %s) "
                    "ON CONFLICT (series) DO UPDATE SET next_value = excluded.next_value",
                    [(key, taken + 1) for key, taken in sorted(series.items())])
    with cur.copy("COPY payment_applications (id, payment_id, invoice_id, amount, applied_on, days_late, "
                  "applied_by, applied_at) FROM STDIN") as copy:
        for number, (invoice_id, _, _, paid, paid_on, days_late) in enumerate(payments, start=1):
            copy.write_row((number, number, invoice_id, paid, paid_on, days_late, user_id, now))


def copy_orders(conn: psycopg.Connection[Any], rng: random.Random, spec: Receivables, *, user_id: int = 1) -> None:
    """Open sales orders (one in fifty blocked by credit) with one or two lines each."""
    now = dt.datetime.now(dt.UTC)
    cur = conn.cursor()
    lines: list[tuple[Any, ...]] = []
    # Numbered as erp.credit.services.order_number does (companies are coded C01, C02, ...),
    # and each series set to continue after them, so orders taken later number on.
    series: dict[str, int] = {}
    with cur.copy("COPY sales_orders (id, number, company_id, customer_id, order_date, status, created_by, "
                  "created_at, credit_released, confirmed_at, credit_blocked_at) FROM STDIN") as copy:
        for order_id in range(1, spec.open_orders + 1):
            company = rng.randrange(1, spec.companies + 1)
            status = "blocked" if order_id % 50 == 0 else rng.choice(("confirmed", "confirmed", "partially_shipped"))
            ordered = spec.as_of - dt.timedelta(days=rng.randrange(0, 30))
            # confirmed (or blocked) at 10:00 Beijing time on the order date
            stamped = dt.datetime.combine(ordered, dt.time(2), dt.UTC)
            customer = skewed_customer(rng, spec.customers, zipf=spec.zipf)
            key = f"SO-C{company:02d}-{ordered.year}"
            series[key] = series.get(key, 0) + 1
            copy.write_row((order_id, f"{key}-{series[key]:06d}", company, customer, ordered, status, user_id, now,
                            False, None if status == "blocked" else stamped,
                            stamped if status == "blocked" else None))
            for line_no in range(1, rng.choice((2, 3))):
                quantity = rng.randrange(10, 500)
                shipped = rng.randrange(0, quantity) if status == "partially_shipped" else 0
                lines.append((len(lines) + 1, order_id, line_no, rng.randrange(1, spec.products + 1),
                              spec.warehouse_of(company), quantity, Decimal(rng.randrange(500, 50_000)) / 100,
                              shipped))
    with cur.copy("COPY sales_order_lines (id, order_id, line_no, material_id, warehouse_id, quantity, unit_price, "
                  "shipped_quantity) FROM STDIN") as copy:
        for line in lines:
            copy.write_row(line)
    cur.executemany("INSERT INTO document_sequences (series, next_value) VALUES (%s, %s) "
                    "ON CONFLICT (series) DO UPDATE SET next_value = excluded.next_value",
                    [(key, taken + 1) for key, taken in sorted(series.items())])


# Every customer's exposure row from the documents (as ``flask --app erp credit
# check-exposure --repair`` would rebuild it), with an approved limit for four in five.
EXPOSURES = """
INSERT INTO customer_exposures (customer_id, open_invoices, open_orders, exposure, unapplied_credit, credit_limit,
                                limit_version, on_hold, hold_reason, updated_at)
SELECT c.id, coalesce(i.open, 0), coalesce(o.open, 0), coalesce(i.open, 0) + coalesce(o.open, 0), 0,
       -- four customers in five have an approved limit, some of them below their exposure
       CASE WHEN c.id % 5 = 0 THEN NULL
            ELSE round((coalesce(i.open, 0) * (0.7 + (c.id % 7) / 10.0) + 50000) / 10000) * 10000 END,
       CASE WHEN c.id % 5 = 0 THEN 0 ELSE 1 END,
       c.id % 997 = 0, CASE WHEN c.id % 997 = 0 THEN 'bench hold' END, now()
FROM customers c
LEFT JOIN (SELECT customer_id, sum(open_amount) AS open FROM invoices WHERE open_amount > 0
           GROUP BY customer_id) i ON i.customer_id = c.id
LEFT JOIN (SELECT o.customer_id, sum(round((l.quantity - l.shipped_quantity) * l.unit_price, 2)) AS open
           FROM sales_orders o JOIN sales_order_lines l ON l.order_id = o.id
           WHERE o.status IN ('confirmed', 'partially_shipped') GROUP BY o.customer_id) o ON o.customer_id = c.id
"""

# The approved limits as the versions they are, set at go-live on 1 Nov 2025.
APPROVED = """
INSERT INTO credit_limits (customer_id, version, credit_limit, reason, set_by, set_at)
SELECT customer_id, 1, credit_limit, 'bench: approved at go-live', 1, TIMESTAMPTZ '2025-11-01 09:00+08'
FROM customer_exposures WHERE credit_limit IS NOT NULL
"""

# The journal the invoices and payments posted (erp.credit.services): an invoice Dr
# receivables for the customer, Cr revenue (no separate VAT here: net = amount); a payment
# Dr bank, Cr receivables. Entry ids: %(invoice_base)s + invoice id, %(payment_base)s +
# payment id. So 1122 per company and customer equals the open invoices.
RECEIVABLES_JOURNAL = """
INSERT INTO journal_entries (id, company_id, entry_date, period, source_type, source_id, memo, created_by, created_at)
SELECT %(invoice_base)s + id, company_id, invoice_date, to_char(invoice_date, 'YYYY-MM'), 'invoice', id,
       'invoice ' || id, created_by, created_at
FROM invoices;
INSERT INTO journal_lines (entry_id, company_id, period, account_code, amount, material_id, customer_id)
SELECT %(invoice_base)s + i.id, i.company_id, to_char(i.invoice_date, 'YYYY-MM'), l.account, l.amount, NULL, l.customer
FROM invoices i
CROSS JOIN LATERAL (VALUES ('1122', i.amount, i.customer_id), ('6001', -i.amount, NULL)) AS l(account, amount, customer);
INSERT INTO journal_entries (id, company_id, entry_date, period, source_type, source_id, memo, created_by, created_at)
SELECT %(payment_base)s + id, company_id, payment_date, to_char(payment_date, 'YYYY-MM'), 'payment', id,
       'payment ' || id, created_by, created_at
FROM payments;
INSERT INTO journal_lines (entry_id, company_id, period, account_code, amount, material_id, customer_id)
SELECT %(payment_base)s + p.id, p.company_id, to_char(p.payment_date, 'YYYY-MM'), l.account, l.amount, NULL,
       l.customer
FROM payments p
CROSS JOIN LATERAL (VALUES ('1002', p.amount, NULL::int), ('1122', -p.amount, p.customer_id))
    AS l(account, amount, customer);
"""
