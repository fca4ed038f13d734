"""Refusals of the warehouse: each names the rule that was broken."""

from __future__ import annotations

from erp.errors import Conflict, DomainError, Forbidden
from erp.masterdata.errors import StorageConditionsNotMet  # noqa: F401 - the master data's rule, raised here too
from erp.messages import N_
from erp.unique import unique_refusal


class OrderNotOpen(Conflict):
    """Goods are received only against an order that is open for receipt: released (or
    partly received), not a draft, cancelled or closed."""

    slug = "order-not-open"
    title = N_("The purchase order is not open for receipts")
    remedy = N_("Ask the buyer to release the order, or receive against another open order.")


class ProductionOrderClosed(Conflict):
    """A production order's postings are corrected only while its cost can still change:
    an issue is reversed only while the order is released (once technically completed,
    its cost is what its settlement will explain), a delivery only until the month-end
    close has settled the order's variance."""

    slug = "production-order-closed"
    title = N_("The production order no longer takes corrections")
    remedy = N_("Correct the posting on an order that is still running, or book the difference as a new posting.")


class IssueNeedsProductionOrder(DomainError):
    """Production costs (5001) are charged through production orders: each issue to an order
    is a component of its bill of materials, its quantity checked against the plan and its
    value settled with the order's variance. A generic goods issue to production would put
    materials on 5001 that no order, bill of materials or standard explains."""

    slug = "issue-needs-production-order"
    title = N_("Materials for production are issued to a production order")
    remedy = N_("Issue the components on the production order's page; consumption outside production goes to a "
                "cost centre.")


class OverReceipt(Conflict):
    """A line receives at most its ordered quantity plus the material's over-receipt
    tolerance."""

    slug = "over-receipt"
    title = N_("The receipt exceeds the ordered quantity plus tolerance")
    remedy = N_("Receive at most what the detail says is still open; the buyer can order the rest.")


class WarehouseNotOfCompany(DomainError):
    """Stock moves within one company: a receipt goes to a warehouse of the order's
    receiving company, a transfer between warehouses of the same company."""

    status = 422
    slug = "warehouse-not-of-company"
    title = N_("The warehouse belongs to another company")
    remedy = N_("Choose a warehouse of the company the detail names.")


class ClerkNotOfWarehouse(Forbidden):
    """Warehouse clerks book only in the warehouses they are bound to."""

    slug = "clerk-not-of-warehouse"
    title = N_("You do not act for this warehouse")
    remedy = N_("Ask a clerk of that warehouse, or an administrator to bind you to it.")


class BatchRequired(DomainError):
    """Batch-managed materials are received with a batch number, a manufacture date and an
    expiry date, and adjusted by batch (traceability, GSP)."""

    status = 422
    slug = "batch-required"
    title = N_("The material is batch-managed: batch number and dates are required")
    remedy = N_("Give the batch number and its dates from the supplier's certificate.")


class BatchNotApplicable(DomainError):
    """A material that is not batch-managed takes no batch number or batch dates."""

    status = 422
    slug = "batch-not-applicable"
    title = N_("The material is not batch-managed")
    remedy = N_("Send the receipt without a batch number and dates.")


class InvalidBatchDates(DomainError):
    """A batch is made before it expires, and not after the day it is received."""

    status = 422
    slug = "invalid-batch-dates"
    title = N_("The batch's dates are not plausible")
    remedy = N_("Check the dates against the supplier's certificate.")


class BatchExpired(DomainError):
    """Expired batches are neither received nor issued."""

    status = 422
    slug = "batch-expired"
    title = N_("The batch has expired")
    remedy = N_("Use another batch; expired stock is scrapped or returned.")


class ShortRemainingShelfLife(DomainError):
    """A batch is received only with the minimum remaining shelf life the group requires."""

    status = 422
    slug = "short-remaining-shelf-life"
    title = N_("The batch has less remaining shelf life than required")
    remedy = N_("Refuse the delivery or ask quality for a decision; the detail gives the days required.")


class BatchDatesMismatch(Conflict):
    """A batch number of a material names one batch: a receipt of an existing batch carries
    its dates."""

    slug = "batch-dates-mismatch"
    title = N_("The batch exists with other dates")
    remedy = N_("Check the batch number and dates; a different batch needs a different number.")


class InsufficientStock(Conflict):
    """Stock never goes negative: what goes out must be there, in that warehouse, batch and
    status, on the posting date."""

    slug = "insufficient-stock"
    title = N_("Not enough stock")
    remedy = N_("Post at most the available quantity the detail gives, or book the missing receipt first.")


class StockNotReleased(InsufficientStock):
    """Only released (unrestricted) stock is issued, and only released or rejected (blocked)
    stock goes back to the supplier: goods in quarantine wait for quality's decision, which
    releases them or rejects them, before they leave the warehouse."""

    slug = "stock-not-released"
    title = N_("The goods are in quarantine: quality must decide on them first")
    remedy = N_("Ask quality to release the batch (or to reject it, for a return to the supplier), then post again.")


class AlreadyReversed(Conflict):
    """A document is reversed once."""

    slug = "already-reversed"
    title = N_("The document has already been reversed")
    remedy = N_("Nothing to do: the reversal the detail names already corrected it.")


class NotReversible(Conflict):
    """Only receipts and issues are reversed, by the matching reversal, dated on or after the
    original, and not once part of them went on (returned to the supplier)."""

    slug = "not-reversible"
    title = N_("The document cannot be reversed")
    remedy = N_("Correct it the way the detail says (a return, an adjustment).")


class InvalidQuantity(DomainError):
    """Quantities are positive (adjustments may be negative, scrap is), and have no more
    decimals than the material's unit allows."""

    status = 422
    slug = "invalid-quantity"
    title = N_("The quantity is not acceptable")
    remedy = N_("Give a quantity the detail allows.")


class ReturnExceedsShipment(Conflict):
    """A customer returns at most what was shipped to it of the batch, less what it already
    returned."""

    slug = "return-exceeds-shipment"
    title = N_("The return exceeds what was shipped of the batch less what was already returned")
    remedy = N_("Return at most the quantity the detail gives.")


unique_refusal("uq_stock_documents_reverses_document_id", AlreadyReversed,
               N_("the document has already been reversed"))


class OutsideContractValidity(DomainError):
    """A receipt is dated within the validity of the contract line its order line takes
    its price from: the price holds only for deliveries in that period."""

    status = 422
    slug = "outside-contract-validity"
    title = N_("Dated outside the contract's validity")
    remedy = N_("Date the receipt within the validity the detail gives, or ask the buyer to order under a valid contract.")
