"""Opening balances: stock on hand and open receivables as of the go-live date, posted
through the posting module (erp.posting) against the opening balance account, so every
trial balance still balances.

Opening stock: one row per warehouse, material, batch and stock status, with the quantity,
its value at standard (checked against quantity x the standard price in force on the
go-live date, which values it) and the purchase price variance it carries. Every row is
checked as a goods receipt would be (erp.inventory.services: quantity in the unit's
Each chunk of rows is one stock document (an adjustment whose reason names the import)
whose ledger rows are of close class ``receipt``, so the first month-end close spreads the
variance they carry like any purchase's; and one journal entry: Dr inventory at standard,
Dr/Cr material cost variance, Cr opening balances (4199).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import marshmallow as ma
from sqlalchemy import select
from sqlalchemy.orm import Session

from erp.auth.roles import Role
from erp.costing import accounts
from erp.errors import DomainError
from erp.golive.bulk import any_of
from erp.golive.framework import Column, ImportKind, ImportRun, Row
from erp.golive.models import ImportBatch
from erp.inventory.services import (
    ReceiptRequest,
    _check_batch_for_receipt,
    _check_quantity,
    _check_storage,
    _inventory_account,
)
from erp.masterdata.models import Material, Warehouse
from erp.messages import N_, Message
from erp.money import round_money
from erp.posting import Document, Line, Movement, Posting, portable_path, post, price_for_posting
from erp.posting.models import CloseClass, MovementType, StockStatus
from erp.posting.stock import find_or_create_batch
from erp.schemas import Code, Day, Money, Quantity, Schema

ZERO = Decimal("0")
VALUE_DIFFERS = N_("value at standard {value} is not quantity x standard price {expected}")
BATCH_DATES_DIFFER = N_("batch {batch} is recorded as made {made}, expiring {expires}")


def _column_of(exc: DomainError, default: str) -> str:
    pointers = [str(e.get("pointer", "")).lstrip("/") for e in exc.errors]
    return next((p for p in pointers if p), default)


class OpeningStockImport(ImportKind):
    """Stock on hand at go-live per warehouse, material, batch and status, with its value at
    standard and the variance it carries, posted through erp.posting."""

    name = "opening_stock"
    title_zh, title_en = "期初库存", "opening stock"
    company_scoped = True
    roles = (Role.COST_ACCOUNTANT,)
    needs_go_live_date = True
    columns = (
        Column("warehouse_code", "仓库编码", "Warehouse", "GL1-COOL", True, help_zh="本公司的仓库",
               help_en="a warehouse of the company"),
        Column("material_code", "物料编码", "Material code", "API-PARA", True),
        Column("batch_number", "批号", "Batch", "B240101", help_zh="批次管理物料必填", help_en="required for batch-managed materials"),
        Column("manufacture_date", "生产日期", "Manufacture date", "2026-01-01", type="date"),
        Column("expiry_date", "有效期至", "Expiry date", "2028-12-31", type="date"),
        Column("status", "库存状态", "Stock status", "unrestricted",
               help_zh="unrestricted 非限制 / quarantine 待检 / blocked 冻结，默认非限制",
               help_en="unrestricted (default), quarantine or blocked"),
        Column("quantity", "数量", "Quantity", "120.5", True, type="decimal"),
        Column("value", "标准成本金额", "Value at standard", "1506.25", type="decimal",
               help_zh="可空；填写时须等于数量×上线日标准价格", help_en="optional; if given, quantity x the standard price in force on the go-live date"),
        Column("variance", "材料成本差异", "Variance carried", "12.30", type="decimal",
               help_zh="该库存承担的材料成本差异，默认0", help_en="the purchase price variance the stock carries; default 0"),
    )

    @staticmethod
    def schema() -> ma.Schema:  # type: ignore[override]
        return Schema.from_dict({
            "warehouse_code": Code(required=True), "material_code": Code(required=True),
            "batch_number": ma.fields.String(validate=ma.validate.Length(1, 40), load_default=None),
            "manufacture_date": Day(load_default=None), "expiry_date": Day(load_default=None),
            "status": ma.fields.Enum(StockStatus, by_value=True, load_default=StockStatus.UNRESTRICTED),
            "quantity": Quantity(required=True), "value": Money(min_value=0, load_default=None),
            "variance": Money(load_default=ZERO),
        })()

    def process(self, run: ImportRun, rows: list[Row]) -> None:
        assert run.company is not None and run.go_live_date is not None
        session, company_id, day = run.session, run.company.id, run.go_live_date
        warehouses = {w.code: w for w in session.scalars(select(Warehouse).where(
            any_of(session, Warehouse.code, sorted({r.data["warehouse_code"] for r in rows}))))}
        materials = {m.code: m for m in session.scalars(select(Material).where(
            any_of(session, Material.code, sorted({r.data["material_code"] for r in rows}))))}
        prices: dict[int, Decimal] = {}
        movements: list[Movement] = []
        totals: dict[int, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
        material_of: dict[int, Material] = {}
        for row in rows:
            data = row.data
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
                # A receipt's checks: the unit's decimals, the warehouse's storage conditions,
                # batch and dates, remaining shelf life.
                _check_quantity(data["quantity"], material)
                _check_storage(warehouse, material)
                _check_batch_for_receipt(material, ReceiptRequest(
                    po_line_id=0, quantity=data["quantity"], posting_date=day, batch_number=data["batch_number"],
                    manufacture_date=data["manufacture_date"], expiry_date=data["expiry_date"],
                    warehouse_id=warehouse.id), min_remaining_days=run.settings.default_min_remaining_shelf_life_days
                    if run.settings else 30)
                if material.id not in prices:
                    _period, prices[material.id] = price_for_posting(session, company_id, material.id, day)
            except DomainError as exc:
                run.rule_error(row, _column_of(exc, "quantity"), exc)
                continue
            value = round_money(data["quantity"] * prices[material.id])
            if data.get("value") is not None and data["value"] != value:
                run.error(row, "value", "rule", message=VALUE_DIFFERS,
                          params={"value": data["value"], "expected": value})
                continue
            batch_id, made, expires = find_or_create_batch(
                session, material_id=material.id, batch_number=data["batch_number"] if material.batch_managed else None,
                manufacture_date=data["manufacture_date"], expiry_date=data["expiry_date"], supplier_id=None)
            if material.batch_managed and (made, expires) != (data["manufacture_date"], data["expiry_date"]):
                run.error(row, "manufacture_date", "rule", message=BATCH_DATES_DIFFER,
                          params={"batch": data["batch_number"], "made": made, "expires": expires})
                continue
            if not run.first_seen("balance", (warehouse.id, material.id, batch_id, data["status"]), row,
                                  "batch_number"):
                continue
            movements.append(Movement(MovementType.ADJUSTMENT, CloseClass.RECEIPT, warehouse.id, material.id,
                                      batch_id, data["status"], data["quantity"], value, data["variance"]))
            totals[material.id][0] += value
            totals[material.id][1] += data["variance"]
            material_of[material.id] = material
            run.count("rows")
        if not movements or run.error_count:
            return  # nothing is committed when a row is wrong: no need to post what will roll back
        journal = []
        for material_id, (value, variance) in sorted(totals.items()):
            journal += [Line(_inventory_account(material_of[material_id]), value, material_id),
                        Line(accounts.MATERIAL_COST_VARIANCE, variance, material_id),
                        Line(accounts.OPENING_BALANCES, -(value + variance))]
        # The portable path writes the rows with multi-row statements; the one-statement path
        # is made for the few rows of a receipt and compiles one statement per document shape.
        with portable_path():
            posted = post(session, Posting(
                company_id=company_id, posting_date=day, user_id=run.actor.user_id,
                document=Document(doc_type=MovementType.ADJUSTMENT, reason=f"opening stock, {run.reason}"),
                movements=movements, journal=journal, memo=f"opening stock ({run.reason})"))
        run.record("stock_documents", [posted.document_id] if posted.document_id else [])
        run.count("documents")

    def undo_check(self, session: Session, batch: ImportBatch) -> None:
        """Postings are never deleted: opening stock is corrected by new postings (a count
        adjustment), not by undoing its import."""
        raise DomainError(Message("opening stock is posted; correct it with stock adjustments, not by undoing the "
                                  "import"), slug="import-posted", status=409)
