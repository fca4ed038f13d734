"""Import kinds whose rows group into documents: contracts (group or company; one row per
contract line) and open purchase orders (one row per order line, with the quantity already
received). Each document is created through the purchasing services, in its own savepoint,
so a refused document marks its rows and the rest of the file is still checked.
"""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal
from typing import Any

import marshmallow as ma
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from erp.clock import business_today
from erp.auth.roles import Role
from erp.errors import DomainError
from erp.messages import N_, Message
from erp.golive.words import label_of
from erp.golive.framework import Column, ImportKind, ImportRun, Row, fields_of
from erp.golive.models import ImportBatch, ImportRecord
from erp.inventory import opening_receipts
from erp.masterdata.models import Material, Supplier, Warehouse
from erp.purchasing import receiving
from erp.purchasing import schemas as ps
from erp.purchasing import services as purchasing
from erp.purchasing.models import ContractLine, ContractScope, PurchaseOrderLine, PurchaseOrderStatus
from erp.schemas import Code, Length, Quantity, Schema, USCC

# The old system's orders taken over: approved and not fully received (未清).
TAKEN_OVER = frozenset({PurchaseOrderStatus.OPEN, PurchaseOrderStatus.PARTIALLY_RECEIVED})
LINE_POINTER = re.compile(r"^/?lines/(\d+)/(\w+)")


def _supplier_columns() -> tuple[Column, Column]:
    return (
        Column("supplier_uscc", "供应商统一社会信用代码", "Supplier USCC", "91330100000000001C",
               help_zh="与供应商编码二选一", help_en="this or the supplier code"),
        Column("supplier_code", "供应商编码", "Supplier code", "S0001", help_zh="与信用代码二选一",
               help_en="this or the USCC"),
    )


def _resolve_suppliers(run: ImportRun, rows: list[Row]) -> None:
    """Put ``supplier_id`` on each row from its USCC or code (row errors otherwise)."""
    usccs = sorted({r.data["supplier_uscc"] for r in rows if r.data.get("supplier_uscc")})
    codes = sorted({r.data["supplier_code"] for r in rows if r.data.get("supplier_code")})
    by_uscc = dict(run.session.execute(select(Supplier.uscc, Supplier.id).where(Supplier.uscc.in_(usccs))).all())
    by_code = dict(run.session.execute(select(Supplier.code, Supplier.id).where(Supplier.code.in_(codes))).all())
    for row in rows:
        uscc, code = row.data.get("supplier_uscc"), row.data.get("supplier_code")
        if uscc is None and code is None:
            run.error(row, "supplier_uscc", "required")
            continue
        supplier_id = by_uscc.get(uscc) if uscc else by_code.get(code)
        if supplier_id is None:
            run.error(row, "supplier_uscc" if uscc else "supplier_code", "unknown-reference",
                      params={"record": "supplier"})
        elif uscc and code and by_code.get(code) != supplier_id:
            run.error(row, "supplier_code", "code-uscc-mismatch", params={"record": "supplier", "uscc": uscc})
        else:
            row.data["supplier_id"] = supplier_id


def _resolve_codes(run: ImportRun, rows: list[Row], column: str, model: Any, target: str, label: str) -> None:
    codes = sorted({r.data[column] for r in rows if r.data.get(column)})
    found = dict(run.session.execute(select(model.code, model.id).where(model.code.in_(codes))).all())
    for row in rows:
        code = row.data.get(column)
        if code is None:
            continue
        if code not in found:
            run.error(row, column, "unknown-reference", params={"record": label})
        else:
            row.data[target] = found[code]


def _document_error(run: ImportRun, rows: list[Row], exc: DomainError, columns: dict[str, str]) -> None:
    """A service refused a document: the error goes to the row its pointer names (a line's
    field), or to every row of the document."""
    pointers = [e.get("pointer", "") for e in exc.errors] + [str(exc.extensions.get("pointer", ""))]
    for pointer in pointers:
        match = LINE_POINTER.match(pointer or "")
        if match and int(match[1]) < len(rows):
            run.rule_error(rows[int(match[1])], columns.get(match[2]), exc)
            return
    for row in rows:
        run.rule_error(row, None, exc)


def _same_header(run: ImportRun, rows: list[Row], keys: tuple[str, ...]) -> bool:
    """The document's header fields must read the same on each of its rows."""
    first = rows[0]
    ok = True
    for row in rows[1:]:
        for key in keys:
            if row.data.get(key) != first.data.get(key):
                run.error(row, key, "different-in-document",
                          params={"first_row": first.number, "expected": first.data.get(key)})
                ok = False
    return ok


# --- contracts ------------------------------------------------------------------------------------

class ContractsImport(ImportKind):
    """Framework contracts with suppliers, one row per contract line, created and put in force
    through the purchasing services (group contracts by group buyers; a company's by its buyers)."""

    scope: ContractScope
    undo_entities = ("contract_lines", "contracts")
    serialised_with = "contracts"  # group and company contracts share the group-wide numbers

    def __init__(self) -> None:
        self.columns = (
            Column("number", "合同编号", "Contract number", "GC-2026-001", True,
                   help_zh="同一合同的各行编号相同", help_en="the same on every line of one contract"),
            *_supplier_columns(),
            Column("valid_from", "生效日期", "Valid from", "2026-01-01", True, type="date"),
            Column("valid_to", "失效日期", "Valid to", "2026-12-31", True, type="date"),
            Column("material_code", "物料编码", "Material code", "API-PARA", True),
            Column("unit_price", "合同单价", "Unit price", "12.800000", True, type="decimal",
                   help_zh="每计量单位人民币", help_en="CNY per unit"),
            Column("target_quantity", "目标数量", "Target quantity", "1000", type="decimal",
                   help_zh="可空", help_en="optional"),
        )

    @staticmethod
    def schema() -> ma.Schema:  # type: ignore[override]
        return Schema.from_dict(
            fields_of(ps.ContractSummarySchema, "number", "valid_from", "valid_to")
            | fields_of(ps.ContractLineSchema, "unit_price", "target_quantity")
            | {"supplier_uscc": USCC(), "supplier_code": Code(), "material_code": Code(required=True)})()

    def process(self, run: ImportRun, rows: list[Row]) -> None:
        _resolve_suppliers(run, rows)
        _resolve_codes(run, rows, "material_code", Material, "material_id", "material")
        documents: dict[str, list[Row]] = run.state.setdefault("documents", defaultdict(list))
        for row in rows:
            if row.number not in run.error_rows:
                documents[row.data["number"]].append(row)

    def finish(self, run: ImportRun) -> None:
        company_id = run.company.id if run.company is not None else None
        for number, rows in run.state.get("documents", {}).items():
            if not _same_header(run, rows, ("supplier_id", "valid_from", "valid_to")):
                continue
            head = rows[0].data
            try:
                with run.session.begin_nested():
                    contract = purchasing.create_contract(
                        run.session, run.actor, number=number, supplier_id=head["supplier_id"], scope=self.scope,
                        company_id=company_id, valid_from=head["valid_from"], valid_to=head["valid_to"],
                        lines=[{"material_id": r.data["material_id"], "unit_price": r.data["unit_price"],
                                "target_quantity": r.data.get("target_quantity")} for r in rows])
                    purchasing.activate_contract(run.session, run.actor, contract.id,
                                                 today=max(head["valid_from"], business_today()))
            except DomainError as exc:
                _document_error(run, rows, exc, {"material_id": "material_code", "target_quantity": "target_quantity",
                                                 "unit_price": "unit_price"})
                continue
            run.record("contract_lines", [line.id for line in contract.lines])
            run.record("contracts", [contract.id])
            run.count("contracts")
            run.count("contract_lines", len(rows))


class GroupContractsImport(ContractsImport):
    name = "group_contracts"
    title_zh, title_en = "集团合同", N_("group contracts")
    roles = (Role.GROUP_BUYER,)
    scope = ContractScope.GROUP


class CompanyContractsImport(ContractsImport):
    name = "company_contracts"
    title_zh, title_en = "公司合同", N_("company contracts")
    roles = (Role.BUYER,)
    company_scoped = True
    scope = ContractScope.COMPANY


# --- open purchase orders -------------------------------------------------------------------------

class OpenOrdersImport(ImportKind):
    """Purchase orders still open at go-live, one row per line with the quantity already
    received in the old system: priced from the contract in force on the order date (through
    the purchasing service, with its rights, warehouse and storage checks), opened as
    already approved, and received quantities booked on their lines and credited to GR/IR
    against the opening balances (``erp.inventory.opening_receipts``: the received quantity is
    what the old system received and had not invoiced). No stock moves: stock on hand comes
    with the opening stock import."""

    name = "purchase_orders"
    serialised_per_company = True
    title_zh, title_en = "未完采购订单", N_("open purchase orders")
    company_scoped = True
    roles = (Role.BUYER, Role.GROUP_BUYER)
    undo_entities = ("purchase_order_lines", "purchase_orders")

    def __init__(self) -> None:
        self.columns = (
            Column("reference", "原订单号", "Old order number", "PO-OLD-0001", True,
                   help_zh="原系统订单号；同一订单的各行相同", help_en="the old system's number, the same on every line of one order"),
            *_supplier_columns(),
            Column("order_date", "订单日期", "Order date", "2026-11-15", True, type="date",
                   help_zh="按该日有效的合同定价", help_en="priced by the contract in force on this date"),
            Column("material_code", "物料编码", "Material code", "API-PARA", True),
            Column("warehouse_code", "收货仓库", "Warehouse", "CA-COOL", True),
            Column("quantity", "订购数量", "Quantity ordered", "500", True, type="decimal"),
            Column("received_quantity", "已收数量", "Quantity received", "200", type="decimal",
                   help_zh="原系统已收货未开票的数量（记入暂估应付），默认0",
                   help_en="received and not yet invoiced in the old system (put on GR/IR); default 0"),
            Column("status", "订单状态", "Order status", "已审核", enum=PurchaseOrderStatus,
                   help_zh="可空；原系统的状态（已审核、已批准、未清、部分收货…）：只接收未完订单",
                   help_en="optional; the old system's status (approved, open, 已审核, 未清…): only open orders are "
                           "taken over"),
        )

    @staticmethod
    def schema() -> ma.Schema:  # type: ignore[override]
        return Schema.from_dict(
            fields_of(ps.OrderLineSchema, "quantity") | fields_of(ps.PurchaseOrderSummarySchema, "order_date")
            | {"reference": ma.fields.String(required=True, validate=Length(1, 64)),
               "received_quantity": Quantity(positive=False, min_value=0, load_default=Decimal(0)),
               "status": ma.fields.Enum(PurchaseOrderStatus, by_value=True, load_default=None),
               "supplier_uscc": USCC(), "supplier_code": Code(), "material_code": Code(required=True),
               "warehouse_code": Code(required=True)})()

    def process(self, run: ImportRun, rows: list[Row]) -> None:
        _resolve_suppliers(run, rows)
        _resolve_codes(run, rows, "material_code", Material, "material_id", "material")
        _resolve_codes(run, rows, "warehouse_code", Warehouse, "warehouse_id", "warehouse")
        documents: dict[str, list[Row]] = run.state.setdefault("documents", defaultdict(list))
        for row in rows:
            if row.number in run.error_rows:
                continue
            status = row.data.get("status")
            if status is not None and status not in TAKEN_OVER:
                run.error(row, "status", "order-not-open", params={"status": Message(label_of(status))})
                continue
            if row.data["received_quantity"] > row.data["quantity"]:
                run.error(row, "received_quantity", "received-above-ordered",
                          params={"received": row.data["received_quantity"], "ordered": row.data["quantity"]})
                continue
            documents[row.data["reference"]].append(row)

    def finish(self, run: ImportRun) -> None:
        assert run.company is not None
        for reference, rows in run.state.get("documents", {}).items():
            if not _same_header(run, rows, ("supplier_id", "order_date")):
                continue
            if all(r.data["received_quantity"] >= r.data["quantity"] for r in rows):
                for row in rows:
                    run.error(row, "received_quantity", "fully-received", params={"reference": reference})
                continue
            head = rows[0].data
            try:
                with run.session.begin_nested():
                    order = purchasing.create_purchase_order(
                        run.session, run.actor, receiving_company_id=run.company.id, supplier_id=head["supplier_id"],
                        order_date=head["order_date"], today=head["order_date"],
                        lines=[{"material_id": r.data["material_id"], "quantity": r.data["quantity"],
                                "warehouse_id": r.data["warehouse_id"]} for r in rows])
                    # Approved in the old system: it opens (and counts against its contracts) at once.
                    purchasing.move_order(run.session, order, PurchaseOrderStatus.OPEN, "take over")
                    order.status_reason = f"taken over at go-live from order {reference}"[:500]
                    run.session.flush()
                    for line, row in zip(order.lines, rows, strict=True):
                        if row.data["received_quantity"] > 0:
                            # received and not invoiced: on the line and on GR/IR, as a receipt
                            # would have put it, so the invoice's GR/IR debit clears it (finding 131)
                            opening_receipts.take_over_received(
                                run.session, user_id=run.actor.user_id,
                                line=receiving.lock_line_for_receipt(run.session, line.id),
                                quantity=row.data["received_quantity"], posting_date=business_today(),
                                reference=reference)
            except DomainError as exc:
                _document_error(run, rows, exc, {"material_id": "material_code", "quantity": "quantity",
                                                 "warehouse_id": "warehouse_code"})
                continue
            run.record("purchase_order_lines", [line.id for line in order.lines])
            run.record("purchase_orders", [order.id])
            run.notice(rows[0], "order-numbered", reference=reference, number=order.number)
            run.count("orders")
            run.count("order_lines", len(rows))

    def undo(self, session: Session, batch: ImportBatch, actor: Any = None) -> dict[str, int]:
        """Delete the orders; what they counted against their contract lines is released
        (as a cancellation would), and the GR/IR their received quantities were credited is
        taken back by the mirror entries, dated today. Receipts and invoices booked since point
        at the lines (a foreign key), so an order received or invoiced in this system refuses
        the undo."""
        lines = PurchaseOrderLine.__table__
        line_ids = list(session.scalars(select(ImportRecord.record_id).where(
            ImportRecord.batch_id == batch.id, ImportRecord.entity == "purchase_order_lines")))
        opening_receipts.undo_received(session, user_id=actor.user_id if actor is not None else None,
                                       line_ids=line_ids, posting_date=business_today())
        taken = (select(lines.c.contract_line_id, func.sum(lines.c.quantity).label("quantity"))
                 .join(ImportRecord, (ImportRecord.record_id == lines.c.id) & (ImportRecord.batch_id == batch.id)
                       & (ImportRecord.entity == "purchase_order_lines"))
                 .group_by(lines.c.contract_line_id).order_by(lines.c.contract_line_id))
        contract_lines = ContractLine.__table__
        for contract_line_id, quantity in session.execute(taken).all():
            session.execute(update(contract_lines).where(contract_lines.c.id == contract_line_id)
                            .values(ordered_quantity=contract_lines.c.ordered_quantity - quantity))
        return super().undo(session, batch, actor)
