"""Opening balances: stock on hand and open receivables as of the go-live date, posted
through the posting module (erp.posting) against the opening balance account, so every
trial balance still balances.

Opening stock: one row per warehouse, material, batch and stock status, with the quantity,
its value at standard (checked against quantity x the standard price in force on the
go-live date, which values it: within ``ROUNDING_TOLERANCE`` the difference is rounding and
joins the variance) and the purchase price variance it carries. Every row is
checked as a goods receipt would be (erp.inventory.services: quantity in the unit's
decimals, storage conditions, batch dates, remaining shelf life). Each chunk of rows is one stock document (an adjustment whose reason names the import)
whose ledger rows are of close class ``receipt``, so the first month-end close spreads the
variance they carry like any purchase's; and one journal entry: Dr inventory at standard,
Dr/Cr material cost variance, Cr opening balances (4199). Stock of a material that needs
inspection taken over in quarantine gets an inspection lot per batch and warehouse (origin
``opening_stock``), so QA releases or rejects it as a receipt's.

Opening receivables: one row per invoice still open in the old system, taken over through
the credit module (erp.credit.opening): the invoice with its own dates, Dr receivables per
customer, Cr opening balances, and the customer's group-wide exposure at once.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session

from erp.auth.roles import Role
from erp.costing import accounts
from erp.errors import DomainError
from erp.golive.errors import ImportPosted
from erp.db import is_postgres
from erp.golive.bulk import any_of
from erp.golive.framework import Column, ImportKind, ImportRun, Row
from erp.credit.models import Invoice
from erp.credit.opening import (
    OPENING_RECEIVABLE_ROLES,
    OpeningReceivable,
    opening_receivable_problem,
    take_over_receivables,
)
from erp.golive.models import ImportBatch
from erp.inventory.services import (
    ReceiptRequest,
    _check_batch_for_receipt,
    _check_quantity,
    _check_storage,
    _inventory_account,
)
from erp.masterdata.models import Customer, Material, MaterialType, UnitOfMeasure, Warehouse
from erp.masterdata.services import MaterialFacts, UnitFacts, WarehouseFacts
from erp.messages import N_, Message
from erp.money import round_money
from erp.posting import Document, Line, Movement
from erp.posting.bulk import BulkPosting, find_or_create_batches, standard_prices_for_posting
from erp.quality import services as quality
from erp.quality.models import LotOrigin
from erp.posting.prices import no_standard_price
from erp.posting.models import NO_BATCH, CloseClass, MovementType, StockStatus
from erp.schemas import Code, Day, Length, Money, Quantity, Schema, USCC
from erp.narration import REASON_LENGTH, narrate

ZERO = Decimal("0")
VALUE_DIFFERS = N_("value at standard {value} differs from quantity x standard price {expected} by {difference}, "
                   "more than the {tolerance} per-posting rounding can explain")
# A stock balance's value is the sum of its postings, each rounded to the cent on its own
# (docs/costing.md, *Rounding of stock values*): after many movements at a standard price of
# more than two decimals, or of fractional quantities, it differs from round(quantity x
# standard) by rounding cents, half a cent per posting at most, until the stock leaves (the
# last unit out takes the remaining value). A balance exported from such books (finding
# 141) is taken over at quantity x standard, the difference added to the variance it carries
# (1404), so its actual value (standard + variance) is the recorded one to the cent. Up to
# this much per row: a hundred postings' worst rounding; beyond it the value or the
# standard price is wrong, not rounded.
ROUNDING_TOLERANCE = Decimal("0.50")
BATCH_DATES_DIFFER = N_("batch {batch} is recorded as made {made}, expiring {expires}")


def _column_of(exc: DomainError, default: str) -> str:
    pointers = [str(e.get("pointer", "")).lstrip("/") for e in exc.errors]
    return next((p for p in pointers if p), default)


def _material_facts(session: Session, codes: list[str]) -> dict[str, MaterialFacts]:
    """What the receipt's checks read of the materials, by code: one query, no ORM objects."""
    rows = session.execute(
        select(Material.id, Material.code, Material.material_type, UnitOfMeasure.code, UnitOfMeasure.decimals,
               Material.storage_temp_min, Material.storage_temp_max, Material.storage_max_humidity,
               Material.shelf_life_days, Material.min_remaining_shelf_life_days, Material.batch_managed,
               Material.inspection_required, Material.over_receipt_tolerance_pct, Material.name_zh, Material.name_en)
        .join(UnitOfMeasure, UnitOfMeasure.id == Material.unit_id)
        .where(any_of(session, Material.code, codes)))
    return {r[1]: MaterialFacts(r[0], r[1], MaterialType(r[2]), UnitFacts(r[3], r[4]), *r[5:13], name_zh=r[13],
                                name_en=r[14]) for r in rows}


def _warehouse_facts(session: Session, codes: list[str]) -> dict[str, WarehouseFacts]:
    rows = session.execute(
        select(Warehouse.id, Warehouse.code, Warehouse.company_id, Warehouse.temp_min, Warehouse.temp_max,
               Warehouse.max_humidity, Warehouse.name_zh, Warehouse.name_en)
        .where(any_of(session, Warehouse.code, codes)))
    return {r[1]: WarehouseFacts(*r[:6], name_zh=r[6], name_en=r[7]) for r in rows}


# The balances (warehouse, material, batch, status) of the chunks already read, with the
# row each came from: a balance given twice in the file is a row error naming the first
# row. Kept in the database for the import's transaction, not in a dict of the process,
# so memory stays flat with the file's length (a dict of 100,000 keys held 21 MiB).
BALANCES_SEEN = sa.Table(
    "golive_opening_balances_seen", sa.MetaData(),
    sa.Column("warehouse_id", sa.Integer, nullable=False), sa.Column("material_id", sa.Integer, nullable=False),
    sa.Column("batch_id", sa.Integer, nullable=False), sa.Column("status", sa.String(32), nullable=False),
    sa.Column("row_number", sa.Integer, nullable=False),
    sa.Index("ix_golive_opening_balances_seen_batch", "batch_id"),
    prefixes=["TEMPORARY"], postgresql_on_commit="DROP",
)


def _balances_seen(run: ImportRun, batch_ids: list[int]) -> dict[tuple[int, int, int, StockStatus], int]:
    """The balances of earlier chunks on these batches: key -> the row it came from."""
    session = run.session
    if not run.state.get("balances_seen"):
        # Once per import: dropped at commit on PostgreSQL (and with a rollback everywhere);
        # SQLite keeps a temporary table for the connection, so it is emptied instead.
        BALANCES_SEEN.create(session.connection(), checkfirst=not is_postgres(session))
        if not is_postgres(session):
            session.execute(BALANCES_SEEN.delete())
        run.state["balances_seen"] = True
        return {}
    t = BALANCES_SEEN.c
    return {(w, m, b, StockStatus(s)): n for w, m, b, s, n in session.execute(
        sa.select(t.warehouse_id, t.material_id, t.batch_id, t.status, t.row_number)
        .where(any_of(session, t.batch_id, batch_ids)))}


def _remember_balances(run: ImportRun, kept: list[tuple[int, int, int, StockStatus, int]]) -> None:
    if not kept:
        return
    if not is_postgres(run.session):
        run.session.execute(sa.insert(BALANCES_SEEN), [
            {"warehouse_id": w, "material_id": m, "batch_id": b, "status": s.value, "row_number": n}
            for w, m, b, s, n in kept])
        return
    raw = run.session.connection().connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(
            f"COPY {BALANCES_SEEN.name} (warehouse_id, material_id, batch_id, status, row_number) FROM STDIN") as copy:
        for w, m, b, s, n in kept:
            copy.write_row((w, m, b, s.value, n))


class OpeningStockImport(ImportKind):
    """Stock on hand at go-live per warehouse, material, batch and status, with its value at
    standard and the variance it carries, posted through erp.posting."""

    name = "opening_stock"
    serialised_per_company = True
    title_zh, title_en = "期初库存", N_("opening stock")
    company_scoped = True
    roles = (Role.COST_ACCOUNTANT,)
    needs_go_live_date = True
    # A stock list exported from one company loads into another as it is (after its
    # warehouse codes are changed to the new company's): tests/golive/test_round_trip.py.
    reads_export = "stock"
    columns = (
        Column("warehouse_code", "仓库编码", "Warehouse", "GL1-COOL", True, help_zh="本公司的仓库",
               help_en="a warehouse of the company"),
        Column("material_code", "物料编码", "Material code", "API-PARA", True),
        Column("batch_number", "批号", "Batch", "B240101", help_zh="批次管理物料必填", help_en="required for batch-managed materials"),
        Column("manufacture_date", "生产日期", "Manufacture date", "2026-01-01", type="date"),
        Column("expiry_date", "有效期至", "Expiry date", "2028-12-31", type="date"),
        Column("status", "库存状态", "Stock status", "非限制",
               help_zh="非限制 / 待检（隔离）/ 冻结，或 unrestricted / quarantine / blocked，默认非限制",
               help_en="unrestricted (default), quarantine or blocked (or 非限制 / 待检 / 冻结)", enum=StockStatus),
        Column("quantity", "数量", "Quantity", "120.5", True, type="decimal"),
        Column("value", "标准成本金额", "Value at standard", "1506.25", type="decimal",
               help_zh="可空；填写时须等于数量×上线日标准价格（相差不超过0.50的舍入差额计入材料成本差异）",
               help_en="optional; if given, quantity x the standard price in force on the go-live date (a rounding "
                       "difference of up to 0.50 joins the variance carried)"),
        Column("variance", "材料成本差异", "Variance carried", "12.30", type="decimal",
               help_zh="该库存承担的材料成本差异，默认0", help_en="the purchase price variance the stock carries; default 0"),
    )

    @staticmethod
    def schema() -> ma.Schema:  # type: ignore[override]
        return Schema.from_dict({
            "warehouse_code": Code(required=True), "material_code": Code(required=True),
            "batch_number": ma.fields.String(validate=Length(1, 40), load_default=None),
            "manufacture_date": Day(load_default=None), "expiry_date": Day(load_default=None),
            "status": ma.fields.Enum(StockStatus, by_value=True, load_default=StockStatus.UNRESTRICTED),
            "quantity": Quantity(required=True), "value": Money(min_value=0, load_default=None),
            "variance": Money(load_default=ZERO),
        })()

    def process(self, run: ImportRun, rows: list[Row]) -> None:
        assert run.company is not None and run.go_live_date is not None
        session, company_id, day = run.session, run.company.id, run.go_live_date
        warehouses = _warehouse_facts(session, sorted({r.data["warehouse_code"] for r in rows}))
        materials = _material_facts(session, sorted({r.data["material_code"] for r in rows}))
        movements: list[Movement] = []
        totals: dict[int, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
        material_of: dict[int, MaterialFacts] = {}
        checked: list[tuple[Row, WarehouseFacts, MaterialFacts]] = []
        minimum_shelf_life = run.settings.default_min_remaining_shelf_life_days if run.settings else 30
        for row in rows:
            data = row.data
            if data["batch_number"] == NO_BATCH:
                data["batch_number"] = None  # how the stock list shows stock without a batch
            warehouse, material = warehouses.get(data["warehouse_code"]), materials.get(data["material_code"])
            if warehouse is None:
                run.error(row, "warehouse_code", "unknown-reference", params={"record": "warehouse"})
                continue
            if warehouse.company_id != company_id:
                run.error(row, "warehouse_code", "not-of-company",
                          params={"record": "warehouse", "company": run.company.code})
                continue
            if material is None:
                run.error(row, "material_code", "unknown-reference", params={"record": "material"})
                continue
            try:
                _check_storage(warehouse, material)
            except DomainError as exc:
                run.rule_error(row, "warehouse_code", exc)
                continue
            try:
                # The rest of a receipt's checks: the unit's decimals, batch and dates,
                # remaining shelf life.
                _check_quantity(data["quantity"], material)
                _check_batch_for_receipt(material, ReceiptRequest(
                    po_line_id=0, quantity=data["quantity"], posting_date=day, batch_number=data["batch_number"],
                    manufacture_date=data["manufacture_date"], expiry_date=data["expiry_date"],
                    warehouse_id=warehouse.id), min_remaining_days=minimum_shelf_life)
            except DomainError as exc:
                run.rule_error(row, _column_of(exc, "quantity"), exc)
                continue
            checked.append((row, warehouse, material))
        if not checked:
            return
        # Set-based from here: the prices in force after the period lock, then the batches.
        try:
            period, prices = standard_prices_for_posting(session, company_id, [m.id for _, _, m in checked], day)
        except DomainError as exc:  # the go-live period is closed: every row is refused
            for row, _, _ in checked:
                run.rule_error(row, None, exc)
            return
        batches = find_or_create_batches(session, [
            (m.id, r.data["batch_number"], r.data["manufacture_date"], r.data["expiry_date"]) for r, _, m in checked])
        earlier = _balances_seen(run, sorted({batch_id for batch_id, _, _ in batches.values()}))
        kept: list[tuple[int, int, int, StockStatus, int]] = []
        for row, warehouse, material in checked:
            data = row.data
            price = prices.get(material.id)
            if price is None:
                run.rule_error(row, "material_code", no_standard_price(material.code, period, run.company.code))
                continue
            value = round_money(data["quantity"] * price)
            rounding = ZERO if data.get("value") is None else data["value"] - value
            if abs(rounding) > ROUNDING_TOLERANCE:
                run.error(row, "value", "rule", message=VALUE_DIFFERS,
                          params={"value": data["value"], "expected": value, "difference": rounding,
                                  "tolerance": ROUNDING_TOLERANCE})
                continue
            variance = data["variance"] + rounding  # the recorded value's rounding cents stay with the stock
            batch_id, made, expires = batches[(material.id, data["batch_number"] or NO_BATCH)]
            if material.batch_managed and (made, expires) != (data["manufacture_date"], data["expiry_date"]):
                run.error(row, "manufacture_date", "rule", message=BATCH_DATES_DIFFER,
                          params={"batch": data["batch_number"], "made": made, "expires": expires})
                continue
            key = (warehouse.id, material.id, batch_id, data["status"])
            first_row = earlier.get(key)
            if first_row is not None:  # in an earlier chunk of the file
                run.error(row, "batch_number", "duplicate-in-file", params={"first_row": first_row})
                continue
            if not run.first_seen("balance", key, row, "batch_number", chunk=True):
                continue
            kept.append(key + (row.number,))
            movements.append(Movement(MovementType.ADJUSTMENT, CloseClass.RECEIPT, warehouse.id, material.id,
                                      batch_id, data["status"], data["quantity"], value, variance))
            totals[material.id][0] += value
            totals[material.id][1] += variance
            _add_to_warehouse(run, warehouse, material, data["quantity"], value, variance)
            material_of[material.id] = material
            run.count("rows")
        _remember_balances(run, kept)
        if not movements or run.error_count:
            return  # nothing is committed when a row is wrong: no need to post what will roll back
        # One posting for the whole file: its ledger rows and balances chunk by chunk, its
        # journal entry (three lines per material) and period totals once, in ``finish``.
        posting = run.state.get("posting")
        if posting is None:
            posting = run.state["posting"] = BulkPosting(
                session, company_id=company_id, posting_date=day, user_id=run.actor.user_id,
                document=Document(doc_type=MovementType.ADJUSTMENT, reason=narrate("opening-stock", REASON_LENGTH, reason=run.reason)),
                memo=narrate("opening-stock", reason=run.reason))
        posting.add(movements)
        held = run.state.setdefault("totals", {})
        for material_id, (value, variance) in totals.items():
            sums = held.setdefault(material_id, [material_of[material_id], ZERO, ZERO])
            sums[1] += value
            sums[2] += variance

    def totals(self, run: ImportRun) -> dict[str, Any]:
        """Per warehouse: rows, quantities per unit, value at standard and variance carried."""
        entries = [entry for _, entry in sorted(run.state.get("by_warehouse", {}).items())]
        return {"by_warehouse": [
            {**entry, "quantities": {unit: format(q, "f") for unit, q in sorted(entry["quantities"].items())},
             "value": format(entry["value"], "f"), "variance": format(entry["variance"], "f")} for entry in entries],
            "total": {"rows": sum(e["rows"] for e in entries), "value": format(sum((e["value"] for e in entries), ZERO), "f"),
                      "variance": format(sum((e["variance"] for e in entries), ZERO), "f")}}

    def finish(self, run: ImportRun) -> None:
        """The journal entry of the whole file's opening stock, per material: its inventory
        account and the variance it carries against the opening-balance account."""
        posting: BulkPosting | None = run.state.get("posting")
        assert run.go_live_date is not None
        if posting is None or run.error_count:
            return
        journal = []
        for material_id, (material, value, variance) in sorted(run.state["totals"].items()):
            journal += [Line(_inventory_account(material), value, material_id),
                        Line(accounts.MATERIAL_COST_VARIANCE, variance, material_id),
                        Line(accounts.OPENING_BALANCES, -(value + variance))]
        posted = posting.finish(journal)
        run.record("stock_documents", [posted.document_id] if posted.document_id else [])
        run.count("documents")
        if posted.document_id is not None:
            # Stock of a material that needs inspection taken over in quarantine is released
            # as a receipt's is, by QA's signed decision on a lot: one lot per batch and
            # warehouse, in the same transaction as the posting.
            lots = quality.open_lots_of_document(run.session, origin=LotOrigin.OPENING_STOCK,
                                                 document_id=posted.document_id, inspection_date=run.go_live_date,
                                                 user_id=run.actor.user_id)
            if lots:
                run.count("inspection_lots", lots)

    def undo_check(self, session: Session, batch: ImportBatch) -> None:
        """Postings are never deleted: opening stock is corrected by new postings (a count
        adjustment), not by undoing its import."""
        raise ImportPosted(Message("opening stock is posted; correct it with stock adjustments, not by undoing the "
                                   "import"))


def _add_to_warehouse(run: ImportRun, warehouse: WarehouseFacts, material: MaterialFacts, quantity: Decimal,
                      value: Decimal, variance: Decimal) -> None:
    entry = run.state.setdefault("by_warehouse", {}).setdefault(warehouse.code, {
        "warehouse": warehouse.code, "name_zh": warehouse.name_zh, "name_en": warehouse.name_en, "rows": 0,
        "quantities": {}, "value": ZERO, "variance": ZERO})
    entry["rows"] += 1
    entry["quantities"][material.unit.code] = entry["quantities"].get(material.unit.code, ZERO) + quantity
    entry["value"] += value
    entry["variance"] += variance


POSTED = N_("opening balances are posted; correct them with new postings, not by undoing the import")


def resolve_customers(run: ImportRun, rows: list[Row]) -> list[Row]:
    """Put ``customer_id`` on each row from its USCC or code (both given must agree); the rows
    that name a known customer (the others get row errors)."""
    usccs = sorted({r.data["customer_uscc"] for r in rows if r.data.get("customer_uscc")})
    codes = sorted({r.data["customer_code"] for r in rows if r.data.get("customer_code")})
    session = run.session
    by_uscc = dict(session.execute(select(Customer.uscc, Customer.id).where(any_of(session, Customer.uscc, usccs))).all())
    by_code = dict(session.execute(select(Customer.code, Customer.id).where(any_of(session, Customer.code, codes))).all())
    found: list[Row] = []
    for row in rows:
        uscc, code = row.data.get("customer_uscc"), row.data.get("customer_code")
        if uscc is None and code is None:
            run.error(row, "customer_uscc", "required")
            continue
        customer_id = by_uscc.get(uscc) if uscc else by_code.get(code)
        if customer_id is None:
            run.error(row, "customer_uscc" if uscc else "customer_code", "unknown-reference",
                      params={"record": "customer"})
            continue
        if uscc and code and by_code.get(code) != customer_id:
            run.error(row, "customer_code", "code-uscc-mismatch", params={"record": "customer", "uscc": uscc})
            continue
        row.data["customer_id"] = customer_id
        found.append(row)
    return found


class OpeningReceivablesImport(ImportKind):
    """Invoices still open at go-live, per customer, with the old system's number, their own
    invoice and due dates and the amount still owed, taken over through erp.credit.opening."""

    name = "opening_receivables"
    serialised_per_company = True
    title_zh, title_en = "期初应收", N_("opening receivables")
    company_scoped = True
    roles = OPENING_RECEIVABLE_ROLES
    needs_go_live_date = True
    columns = (
        Column("customer_uscc", "客户统一社会信用代码", "Customer USCC", "91310000000000001Y",
               help_zh="与客户编码二选一", help_en="this or the customer code"),
        Column("customer_code", "客户编码", "Customer code", "K0001", help_zh="与信用代码二选一",
               help_en="this or the USCC"),
        Column("reference", "原发票号", "Old invoice number", "INV-2026-0815", True,
               help_zh="原系统发票号，本公司内唯一", help_en="the old system's number, unique in the company"),
        Column("invoice_date", "开票日期", "Invoice date", "2026-10-15", True, type="date",
               help_zh="不晚于上线日", help_en="on or before the go-live date"),
        Column("due_date", "到期日", "Due date", "2026-12-14", True, type="date",
               help_zh="账龄按此日计算，不早于开票日期", help_en="ageing counts from it; not before the invoice date"),
        Column("open_amount", "未收金额", "Amount owed", "11300.00", True, type="decimal",
               help_zh="客户尚欠的含税金额（人民币，分）", help_en="what the customer still owes, VAT included (CNY, cents)"),
    )

    @staticmethod
    def schema() -> ma.Schema:  # type: ignore[override]
        return Schema.from_dict({
            "customer_uscc": USCC(), "customer_code": Code(),
            "reference": ma.fields.String(required=True, validate=Length(1, 64)),
            "invoice_date": Day(required=True), "due_date": Day(required=True),
            "open_amount": Money(required=True),
        })()

    def process(self, run: ImportRun, rows: list[Row]) -> None:
        assert run.company is not None and run.go_live_date is not None
        session, company_id = run.session, run.company.id
        rows = resolve_customers(run, rows)
        taken = set(session.scalars(select(Invoice.reference).where(
            Invoice.company_id == company_id, any_of(session, Invoice.reference, sorted({r.data["reference"] for r in rows})))))
        items: list[OpeningReceivable] = []
        kept: list[Row] = []
        for row in rows:
            data = row.data
            item = OpeningReceivable(data["customer_id"], data["reference"], data["invoice_date"], data["due_date"],
                                     data["open_amount"])
            problem = opening_receivable_problem(item, run.go_live_date)
            if problem is not None:
                field, message = problem
                run.error(row, field, "rule", message=message.template, params=message.params)
                continue
            if data["reference"] in taken:
                run.error(row, "reference", "already-taken-over")
                continue
            if not run.first_seen("reference", data["reference"], row, "reference"):
                continue
            items.append(item)
            kept.append(row)
            owed = run.state.setdefault("by_customer", {}).setdefault(data["customer_id"], [0, ZERO])
            owed[0] += 1
            owed[1] += data["open_amount"]
        if not items or run.error_count:
            return  # nothing is committed when a row is wrong: no need to post what will roll back
        ids = take_over_receivables(session, run.actor, company_id=company_id, go_live_date=run.go_live_date,
                                    items=items, memo=narrate("opening-receivables", reason=run.reason), source_id=run.batch_id)
        run.record("invoices", ids, kept)
        run.count("invoices", len(ids))

    def totals(self, run: ImportRun) -> dict[str, Any]:
        """Per customer: the invoices taken over and what they still owe."""
        owed = run.state.get("by_customer", {})
        customers = {c.id: c for c in run.session.execute(
            select(Customer.id, Customer.code, Customer.name_zh, Customer.name_en).where(Customer.id.in_(sorted(owed))))}
        return {"by_customer": [
            {"customer": customers[i].code, "name_zh": customers[i].name_zh, "name_en": customers[i].name_en,
             "invoices": count, "amount": format(amount, "f")}
            for i, (count, amount) in sorted(owed.items(), key=lambda item: customers[item[0]].code)],
            "total": {"invoices": sum(c for c, _ in owed.values()),
                      "amount": format(sum((a for _, a in owed.values()), ZERO), "f")}}

    def undo_check(self, session: Session, batch: ImportBatch) -> None:
        """Postings are never deleted: taken-over receivables are corrected by new postings
        (a credit note, a write-off), not by undoing the import."""
        raise ImportPosted(Message(POSTED))
