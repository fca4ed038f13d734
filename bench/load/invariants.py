"""What must hold in the books after any load, checked on the database itself.

- no purchase order line received beyond its quantity and its material's over-receipt
  tolerance;
- no negative stock: the ledger summed per warehouse, material, batch and status is never
  below zero (the balances cannot be: a CHECK constraint), and no balance row is negative;
- the balances and period totals equal the ledger, and no stock sits under a company that
  does not own its warehouse (what ``flask stock check`` reports);
- every journal entry balances, and so does every company's trial balance in every period
  and the group's (the trial balance report, erp.costing.reports.trial_balance, for each
  company at its latest period);
- every customer's stored exposure equals its documents (``flask credit check-exposure``),
  and no customer's exposure is above its credit limit unless a credit controller released
  one of its orders (a recorded release is the only way past the limit). A history may
  hold customers already over their limits (a limit lowered later; the generated group
  has such customers): given the exposures over the limit before a run (``over_limit``),
  such a customer breaks the invariant only if its exposure has grown since.

``check(session)`` returns the violations as sentences naming what broke; none when the
books hold. Read-only: it runs in a REPEATABLE READ transaction and rolls back.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from erp.auth.roles import Actor, Role
from erp.costing.reports import trial_balance
from erp.credit.exposure import CreditPolicy, exposure_drift
from erp.inventory.queries import balance_drift, balances_of_other_companies, period_totals_drift

# Group-wide and read-only: enough to read every company's trial balance.
READER = Actor(0, "invariant-check", Role.CIO, True)


@dataclass(frozen=True)
class Violation:
    invariant: str
    detail: str

    def __str__(self) -> str:
        return f"{self.invariant}: {self.detail}"


OVER_RECEIVED = text("""
    SELECT l.id, o.number, l.line_no, l.quantity, l.received_quantity, m.over_receipt_tolerance_pct
    FROM purchase_order_lines l
    JOIN purchase_orders o ON o.id = l.order_id
    JOIN materials m ON m.id = l.material_id
    WHERE l.received_quantity > l.quantity * (1 + m.over_receipt_tolerance_pct / 100)
    ORDER BY l.id
""")
NEGATIVE_LEDGER = text("""
    SELECT warehouse_id, material_id, batch_id, status, sum(quantity) AS quantity
    FROM stock_movements
    GROUP BY warehouse_id, material_id, batch_id, status
    HAVING sum(quantity) < 0
    ORDER BY 1, 2, 3, 4
""")
# Only the quantity: value left on no quantity (stock received at one period's standard and
# shipped at the next's) is expected between closes, and the close restates it
# (erp.costing.revaluation).
NEGATIVE_BALANCES = text("""
    SELECT warehouse_id, material_id, batch_id, status, quantity, value FROM stock_balances
    WHERE quantity < 0 ORDER BY id
""")
UNBALANCED_ENTRIES = text("""
    SELECT entry_id, company_id, sum(amount) AS off FROM journal_lines
    GROUP BY entry_id, company_id HAVING sum(amount) <> 0 ORDER BY entry_id
""")
UNBALANCED_PERIODS = text("""
    SELECT company_id, period, sum(amount) AS off FROM journal_lines
    GROUP BY company_id, period HAVING sum(amount) <> 0 ORDER BY company_id, period
""")
LATEST_PERIODS = text("SELECT company_id, max(period) FROM journal_lines GROUP BY company_id ORDER BY company_id")
OVER_LIMIT = text("""
    SELECT e.customer_id, c.code, e.exposure, coalesce(e.credit_limit, :starting_limit) AS credit_limit
    FROM customer_exposures e
    JOIN customers c ON c.id = e.customer_id
    WHERE e.exposure > coalesce(e.credit_limit, :starting_limit)
      AND NOT EXISTS (SELECT 1 FROM credit_releases r JOIN sales_orders o ON o.id = r.order_id
                      WHERE o.customer_id = e.customer_id)
    ORDER BY e.customer_id
""")


def check(session: Session, policy: CreditPolicy | None = None,
          before: dict[int, Decimal] | None = None) -> list[Violation]:
    """Every invariant that does not hold, with what breaks it (empty: the books hold), read
    in one snapshot (REPEATABLE READ) and rolled back. ``before``: ``over_limit`` before the run."""
    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    try:
        return violations(session, policy or CreditPolicy(), before or {})
    finally:
        session.rollback()


def over_limit(session: Session, policy: CreditPolicy | None = None) -> dict[int, Decimal]:
    """The exposure of every customer above its limit without a release, by customer id."""
    try:
        rows = session.execute(OVER_LIMIT, {"starting_limit": (policy or CreditPolicy()).starting_limit})
        return {row.customer_id: Decimal(row.exposure) for row in rows}
    finally:
        session.rollback()


def violations(session: Session, policy: CreditPolicy, before: dict[int, Decimal] | None = None
               ) -> list[Violation]:
    """The invariants that do not hold, read in the session's current transaction."""
    before = before or {}
    found: list[Violation] = []
    for row in session.execute(OVER_RECEIVED):
        found.append(Violation("over-received order line", (
            f"line {row.id} ({row.number}/{row.line_no}) received {row.received_quantity} of {row.quantity} "
            f"ordered, beyond its {row.over_receipt_tolerance_pct}% tolerance")))
    for row in session.execute(NEGATIVE_LEDGER):
        found.append(Violation("negative stock", (
            f"the ledger holds {row.quantity} of material {row.material_id} batch {row.batch_id} "
            f"({row.status}) in warehouse {row.warehouse_id}")))
    for row in session.execute(NEGATIVE_BALANCES):
        found.append(Violation("negative stock", (
            f"balance of material {row.material_id} batch {row.batch_id} ({row.status}) in warehouse "
            f"{row.warehouse_id}: quantity {row.quantity}, value {row.value}")))
    for row in balance_drift(session):
        found.append(Violation("balance differs from the ledger", (
            f"warehouse {row.warehouse_id} material {row.material_id} batch {row.batch_id} {row.status}: "
            f"quantity {row.quantity_drift}, value {row.value_drift}")))
    for row in period_totals_drift(session):
        found.append(Violation("period total differs from the ledger", (
            f"company {row.company_id} period {row.period} material {row.material_id} {row.close_class}: "
            f"quantity {row.quantity_drift}, value {row.value_drift}, variance {row.variance_drift}")))
    for row in balances_of_other_companies(session):
        found.append(Violation("stock under another company", (
            f"company {row.company_id} holds material {row.material_id} in warehouse {row.warehouse_code} "
            f"of company {row.warehouse_company_id}")))
    for row in session.execute(UNBALANCED_ENTRIES):
        found.append(Violation("unbalanced journal entry",
                               f"entry {row.entry_id} of company {row.company_id} is off by {row.off}"))
    for row in session.execute(UNBALANCED_PERIODS):
        found.append(Violation("unbalanced trial balance",
                               f"company {row.company_id} period {row.period} is off by {row.off}"))
    latest = session.execute(LATEST_PERIODS).all()
    for company_id, period in latest:
        report = trial_balance(session, READER, company_id=company_id, period=period)
        if not report.balanced:
            found.append(Violation("unbalanced trial balance", (
                f"company {company_id} at {period}: debit {report.total_debit}, credit {report.total_credit}")))
    if latest:
        group = trial_balance(session, READER, company_id=None, period=max(period for _, period in latest))
        if not group.balanced:
            found.append(Violation("unbalanced trial balance", (
                f"the group at {group.period}: debit {group.total_debit}, credit {group.total_credit}")))
    for row in exposure_drift(session):
        found.append(Violation("exposure differs from the documents", (
            f"customer {row.customer_id}: invoices {row.invoices_drift}, orders {row.orders_drift}, "
            f"unapplied {row.unapplied_drift} (documents minus stored)")))
    for row in session.execute(OVER_LIMIT, {"starting_limit": policy.starting_limit}):
        if row.customer_id in before and row.exposure <= before[row.customer_id]:
            continue  # over its limit before the run already, and not raised since
        found.append(Violation("exposure above the limit without a release", (
            f"customer {row.code} (id {row.customer_id}): exposure {row.exposure} over its limit "
            f"{Decimal(row.credit_limit)} and no order of it released by credit control"
            + (f" (it was {before[row.customer_id]} before the run)" if row.customer_id in before else ""))))
    return found
