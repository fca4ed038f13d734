"""The words pages use for the values of every status and kind (UI.md's glossary).

One place, so that a status reads the same on every page and in every refusal.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from flask_babel import gettext

from erp.auth.roles import Role
from erp.costing.board import JOURNAL_SOURCES
from erp.credit.models import InvoiceStatus, SalesOrderStatus
from erp.inventory.models import MovementType, StockStatus
from erp.inventory.services import AdjustmentKind, IssueDestination
from erp.masterdata.models import MaterialType, ProcurementScope, TaxKind
from erp.messages import N_
from erp.purchasing.models import ContractScope, ContractStatus, ExceptionState, PurchaseOrderStatus
from erp.quality.models import LotOrigin, LotStatus

LABELS: dict[Enum, str] = {
    StockStatus.QUARANTINE: N_("quarantine"),
    StockStatus.UNRESTRICTED: N_("unrestricted"),
    StockStatus.BLOCKED: N_("blocked"),
    PurchaseOrderStatus.DRAFT: N_("draft"),
    PurchaseOrderStatus.PENDING_APPROVAL: N_("awaiting approval"),
    PurchaseOrderStatus.OPEN: N_("open"),
    PurchaseOrderStatus.PARTIALLY_RECEIVED: N_("partially received"),
    PurchaseOrderStatus.RECEIVED: N_("received"),
    PurchaseOrderStatus.CLOSED: N_("closed"),
    PurchaseOrderStatus.CANCELLED: N_("cancelled"),
    ContractStatus.ACTIVE: N_("in force"),
    ContractStatus.EXPIRED: N_("expired"),
    ContractStatus.TERMINATED: N_("terminated"),
    ExceptionState.UPCOMING: N_("not yet in force"),
    ExceptionState.IN_FORCE: N_("in force"),
    ExceptionState.ENDED: N_("ended"),
    ExceptionState.REVOKED: N_("revoked"),
    ContractScope.GROUP: N_("group contract"),
    ContractScope.COMPANY: N_("company contract"),
    ProcurementScope.CENTRAL: N_("central purchasing"),
    ProcurementScope.LOCAL: N_("local purchasing"),
    MaterialType.RAW: N_("raw material"),
    MaterialType.PACKAGING: N_("packaging"),
    MaterialType.INTERMEDIATE: N_("intermediate"),
    MaterialType.FINISHED: N_("finished goods"),
    MaterialType.TRADE: N_("trade goods"),
    TaxKind.STANDARD: N_("taxed at the rate"),
    TaxKind.ZERO: N_("zero rate"),
    TaxKind.EXEMPT: N_("exempt"),
    IssueDestination.PRODUCTION: N_("production"),
    IssueDestination.COST_CENTER: N_("cost centre"),
    AdjustmentKind.COUNT: N_("stock count difference"),
    # AdjustmentKind.SCRAP is "scrap", as MovementType.SCRAP (one key, one word)
    MovementType.RECEIPT: N_("goods receipt"),
    MovementType.RECEIPT_REVERSAL: N_("receipt reversal"),
    MovementType.QUALITY_RELEASE: N_("quality release"),
    MovementType.QUALITY_REJECT: N_("quality rejection"),
    MovementType.RETURN_TO_SUPPLIER: N_("return to supplier"),
    MovementType.ISSUE: N_("goods issue"),
    MovementType.ISSUE_REVERSAL: N_("issue reversal"),
    MovementType.TRANSFER: N_("transfer"),
    MovementType.ADJUSTMENT: N_("count adjustment"),
    MovementType.SCRAP: N_("scrap"),
    MovementType.SHIPMENT: N_("shipment"),
    MovementType.SHIPMENT_REVERSAL: N_("customer return"),
    MovementType.REVALUATION: N_("revaluation"),
    MovementType.PRODUCTION_RECEIPT: N_("production receipt"),
    MovementType.PRODUCTION_RECEIPT_REVERSAL: N_("production receipt reversal"),
    MovementType.PRICE_DIFFERENCE: N_("invoice price difference"),
    MovementType.QUALITY_HOLD: N_("quality hold"),
    LotOrigin.RECEIPT: N_("goods receipt"),
    LotOrigin.CUSTOMER_RETURN: N_("customer return"),
    LotOrigin.EXCURSION: N_("storage excursion"),
    LotOrigin.OPENING_STOCK: N_("opening stock"),
    LotStatus.RELEASED: N_("released"),
    LotStatus.REJECTED: N_("rejected"),
    # SalesOrderStatus.BLOCKED shares "blocked" with the stock status (one key): pages say
    # "credit block" for an order themselves.
    SalesOrderStatus.CONFIRMED: N_("confirmed"),
    SalesOrderStatus.PARTIALLY_SHIPPED: N_("partially shipped"),
    SalesOrderStatus.SHIPPED: N_("shipped"),
    InvoiceStatus.PARTIALLY_PAID: N_("partially paid"),
    InvoiceStatus.PAID: N_("paid"),
    Role.STEWARD: N_("master-data steward"),
    Role.GROUP_BUYER: N_("group buyer"),
    Role.BUYER: N_("buyer"),
    Role.PURCHASING_MANAGER: N_("purchasing manager"),
    Role.CLERK: N_("warehouse clerk"),
    Role.QUALITY: N_("quality"),
    Role.COST_ACCOUNTANT: N_("cost accountant"),
    Role.SALES: N_("sales"),
    Role.CREDIT_CONTROLLER: N_("credit controller"),
    Role.CIO: N_("CIO"),
    Role.ADMIN: N_("administrator"),
    Role.AUDITOR: N_("auditor"),
    Role.ACCOUNTS_PAYABLE: N_("accounts payable"),
}
# ContractStatus.DRAFT has the value "draft" like the order's: the same word.

# The colour of a status tag (UI.md): red needs action, amber warns, green is done or
# free to use, blue is in progress, grey is neutral.
TONES: dict[Enum, str] = {
    StockStatus.QUARANTINE: "amber",
    StockStatus.UNRESTRICTED: "green",
    StockStatus.BLOCKED: "red",
    PurchaseOrderStatus.DRAFT: "grey",
    PurchaseOrderStatus.PENDING_APPROVAL: "amber",
    PurchaseOrderStatus.OPEN: "blue",
    PurchaseOrderStatus.PARTIALLY_RECEIVED: "blue",
    PurchaseOrderStatus.RECEIVED: "green",
    PurchaseOrderStatus.CLOSED: "grey",
    PurchaseOrderStatus.CANCELLED: "grey",
    ContractStatus.ACTIVE: "green",
    ContractStatus.EXPIRED: "grey",
    ContractStatus.TERMINATED: "red",
    ExceptionState.UPCOMING: "blue",
    ExceptionState.IN_FORCE: "green",
    ExceptionState.ENDED: "grey",
    ExceptionState.REVOKED: "grey",
    # (SalesOrderStatus.BLOCKED and InvoiceStatus.OPEN share their values with statuses above:
    # one key each, so the credit pages colour those tags themselves.)
    SalesOrderStatus.CONFIRMED: "blue",
    SalesOrderStatus.PARTIALLY_SHIPPED: "blue",
    SalesOrderStatus.SHIPPED: "green",
    InvoiceStatus.PARTIALLY_PAID: "amber",
    InvoiceStatus.PAID: "green",
    # LotStatus.OPEN and CANCELLED share their values with the order's: blue and grey.
    LotStatus.RELEASED: "green",
    LotStatus.REJECTED: "red",
}


def label(value: Enum) -> str:
    """The translated word for an enum value (its raw value if none is defined)."""
    text = LABELS.get(value)
    if text is None:
        for known, word in LABELS.items():
            if known.value == value.value and type(known).__name__.endswith("Status"):
                text = word
                break
    return gettext(text) if text else str(value.value)


# The risk classes of the credit limit model's parameters (erp/credit/scorecard.py): codes a
# parameter version names, so not an Enum; a class a later version adds shows as its code.
RISK_CLASSES: dict[str, str] = {
    "very_high": N_("very high risk"),
    "high": N_("high risk"),
    "medium": N_("medium risk"),
    "low": N_("low risk"),
}


def lot_origin(origin: LotOrigin, source_kind: Enum | None = None) -> str:
    """Where an inspection lot came from, in words: a lot of origin ``receipt`` came in by a
    purchase receipt or by a production order's delivery, so it reads as the kind of the stock
    document it came in by (采购入库, 生产入库: trial finding 109 showed a delivered batch's lot
    as a purchase receipt); the other origins as themselves."""
    if origin == LotOrigin.RECEIPT and source_kind is not None:
        return label(source_kind)
    return label(origin)


def risk_class(code: str | None) -> str:
    """The translated word for a risk class code of the limit model ('—' for none)."""
    if not code:
        return "—"
    text = RISK_CLASSES.get(code)
    return gettext(text) if text else code


def tone(value: Enum) -> str:
    for known, colour in TONES.items():
        if known is value or (known.value == value.value and type(known) is type(value)):
            return colour
    return "grey"


# The audit trail's kinds of record, actions and the fields its changes name (erp.audit:
# lower-case slugs each module records), in the reader's language; a slug a module adds
# later shows as itself until it has a word here.
AUDIT_ENTITIES: dict[str, str] = {
    "segment": N_("segment"), "company": N_("company"), "warehouse": N_("warehouse"), "unit": N_("unit"),
    "material": N_("material"), "supplier": N_("supplier"), "customer": N_("customer"),
    "tax_code": N_("tax code"), "standard_price": N_("standard price"), "contract": N_("contract"),
    "purchasing_exception": N_("purchasing exception"), "customer_credit": N_("customer credit"),
    "customer_credit_data": N_("customer credit data"), "credit_model": N_("credit limit model"),
    "user": N_("user"), "import": N_("go-live import"), "supplier_invoice": N_("supplier invoice"),
    "supplier_payment": N_("supplier payment"), "payables_tolerance": N_("invoice tolerance"),
    "inspection_lot": N_("inspection lot"), "specification": N_("specification"), "bom": N_("bill of materials"),
    "cost_center_rate": N_("cost centre rate"),
    "production_order": N_("production order"), "cost_rollup": N_("standard cost roll-up"),
    "sales_order": N_("sales order"), "period": N_("accounting period"),
    "storage_monitoring": N_("storage monitoring"), "data_logger": N_("data logger"),
    "customer_payment": N_("customer payment"), "customer_invoice": N_("customer invoice"),
}
AUDIT_ACTIONS: dict[str, str] = {
    "create": N_("created"), "change": N_("changed"), "deactivate": N_("deactivated"),
    "reactivate": N_("reactivated"), "delete": N_("deleted"), "activate": N_("put in force"),
    "terminate": N_("terminated"), "grant": N_("granted"), "revoke": N_("revoked"), "limit-set": N_("limit set"),
    "hold": N_("put on hold"), "hold-lifted": N_("hold lifted"), "sign-in": N_("signed in"),
    "sign-in-failed": N_("sign-in failed"), "sign-in-throttled": N_("sign-in throttled"),
    "sign-out": N_("signed out"), "tokens-revoked": N_("tokens revoked"), "import": N_("imported"),
    "undo": N_("import undone"), "release": N_("released"), "reverse": N_("reversed"),
    "confirm": N_("confirmed"), "cancel": N_("cancelled"), "reopen": N_("reopened"),
    "usage-decision-signed": N_("usage decision signed"), "signature-refused": N_("signature refused"),
    "lot-cancelled": N_("inspection lot cancelled"), "lot-quantity-reduced": N_("inspection lot quantity reduced"),
    "lot-moved": N_("inspection lot moved"), "enter-credit-memo": N_("credit memo entered"),
    "credited": N_("credited"), "payment-reversed": N_("payment reversed"),
    "credit-memo-reversed": N_("credit memo reversed"),
    "wip-price-difference-corrected": N_("work-in-process price difference corrected"),
    "wip-price-difference-correction-reversed": N_("work-in-process price difference correction reversed"),
    "enter-price-reduction": N_("price reduction entered"),
    "complete": N_("technically completed"), "reverse-delivery": N_("delivery reversed"),
    "credit-release": N_("released by credit control"), "close": N_("period closed"),
    "group-close": N_("closed in the group's month end"), "over-issue": N_("issued beyond the bill of materials"),
}
AUDIT_FIELDS: dict[str, str] = {
    "code": N_("Code"), "name_zh": N_("Chinese name"), "name_en": N_("English name"), "active": N_("Active"),
    "username": N_("User name"), "display_name": N_("Display name"), "password": N_("Password"),
    "role": N_("Role"), "group_wide": N_("Group-wide"), "company_ids": N_("Companies"),
    "warehouse_ids": N_("Warehouses"), "company_id": N_("Company"), "segment_id": N_("Segment"),
    "warehouse_id": N_("Warehouse"), "customer_id": N_("Intercompany customer record"),
    "supplier_id": N_("Intercompany supplier record"), "material_id": N_("Material"), "unit_id": N_("Unit"),
    "uscc": N_("Unified social credit code"), "approval_threshold": N_("Approval threshold"),
    "live_tokens": N_("Live tokens"), "token": N_("Token"), "price": N_("Standard price"),
    "credit_limit": N_("Credit limit"), "on_hold": N_("On hold"), "reason": N_("Reason"),
    "status": N_("Status"), "period": N_("Period"), "closed": N_("Closed"), "quantity": N_("Quantity"),
    "journal_entry_id": N_("Journal entry"), "materials": N_("Materials"),
    "variance_allocated": N_("Variance allocated"), "variance_remaining": N_("Variance remaining"),
    "order_date": N_("Order date"), "bom_id": N_("Bill of materials"), "base_quantity": N_("Base quantity"),
    "hours": N_("Hours"), "labour_rate": N_("Labour rate"), "overhead_rate": N_("Overhead rate"),
    "delivered_quantity": N_("Delivered quantity"), "completed_on": N_("Completed on"),
    "settled_period": N_("Settled in period"), "released_at": N_("Released at"), "components": N_("Components"),
    "document": N_("Document"), "levels": N_("Levels"), "replaces": N_("Replaces runs"),
    "prices_set": N_("Prices set"), "credit_released": N_("Released by credit control"),
    "exposure": N_("Exposure"), "over_issue": N_("Over the bill of materials"),
    "planned_quantity": N_("Planned quantity"), "issued_quantity": N_("Issued quantity"),
    "documents": N_("Documents"),
    "allowance_minutes": N_("Allowance (minutes)"), "logging_interval_minutes": N_("Logging interval (minutes)"),
}


# What a supplier's document is, by ``document_kind`` (erp.payables.models.DocumentKind).
SUPPLIER_DOCUMENT_KINDS: dict[str, str] = {"invoice": N_("supplier invoice"), "credit_memo": N_("supplier credit memo")}
SUPPLIER_DOCUMENT_REVERSALS: dict[str, str] = {"invoice": N_("reversal of a supplier invoice"),
                                               "credit_memo": N_("reversal of a supplier credit memo")}


def journal_source(source_type: str | None, kind: str | None = None,
                   translate: Callable[[str], str] = gettext) -> str:
    """The words for where a journal entry came from, the one place every page and file names
    it (never the source's code): a stock document by its kind (采购入库, 生产领料...), a
    supplier's document as invoice or credit memo, every other source by its name
    (erp.costing.board.JOURNAL_SOURCES); a code nobody named yet shows as itself."""
    if not source_type:
        return "—"
    if source_type == "stock_document" and kind:
        try:
            word = LABELS.get(MovementType(kind))
        except ValueError:
            word = None
        if word:
            return translate(word)
    if kind and source_type == "supplier_invoice" and kind in SUPPLIER_DOCUMENT_KINDS:
        return translate(SUPPLIER_DOCUMENT_KINDS[kind])
    if kind and source_type == "supplier_invoice_reversal" and kind in SUPPLIER_DOCUMENT_REVERSALS:
        return translate(SUPPLIER_DOCUMENT_REVERSALS[kind])
    word = JOURNAL_SOURCES.get(source_type)
    return translate(word) if word else source_type


def audit_word(words: dict[str, str], slug: str) -> str:
    """The word for an audit trail's slug (an entity, an action, a field), or the slug itself."""
    text = words.get(slug)
    return gettext(text) if text else slug
