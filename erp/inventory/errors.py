"""Refusals of the warehouse: each names the rule that was broken."""

from __future__ import annotations

from erp.messages import N_
from erp.errors import Conflict, DomainError, Forbidden


class OrderNotReceivable(Conflict):
    slug = "order-not-open"
    title = N_("The purchase order is not open for receipts")


class OverReceipt(Conflict):
    slug = "over-receipt"
    title = N_("The receipt exceeds the ordered quantity plus tolerance")


class StorageConditionsNotMet(DomainError):
    status = 422
    slug = "storage-conditions-not-met"
    title = N_("The warehouse cannot hold this material")


class WarehouseNotOfCompany(DomainError):
    status = 422
    slug = "warehouse-not-of-company"
    title = N_("The warehouse belongs to another company")


class ClerkNotOfWarehouse(Forbidden):
    slug = "clerk-not-of-warehouse"
    title = N_("You do not act for this warehouse")


class BatchRequired(DomainError):
    status = 422
    slug = "batch-required"
    title = N_("The material is batch-managed: batch number and dates are required")


class BatchNotApplicable(DomainError):
    status = 422
    slug = "batch-not-applicable"
    title = N_("The material is not batch-managed")


class InvalidBatchDates(DomainError):
    status = 422
    slug = "invalid-batch-dates"
    title = N_("The batch's dates are not plausible")


class BatchExpired(DomainError):
    status = 422
    slug = "batch-expired"
    title = N_("The batch has expired")


class ShortShelfLife(DomainError):
    status = 422
    slug = "short-remaining-shelf-life"
    title = N_("The batch has less remaining shelf life than required")


class BatchDatesMismatch(Conflict):
    slug = "batch-dates-mismatch"
    title = N_("The batch exists with other dates")


class InsufficientStock(Conflict):
    slug = "insufficient-stock"
    title = N_("Not enough stock")


class AlreadyReversed(Conflict):
    slug = "already-reversed"
    title = N_("The document has already been reversed")


class NotReversible(Conflict):
    slug = "not-reversible"
    title = N_("The document cannot be reversed")


class InvalidQuantity(DomainError):
    status = 422
    slug = "invalid-quantity"
    title = N_("The quantity is not acceptable")


class ReturnExceedsShipment(Conflict):
    slug = "return-exceeds-shipment"
    title = N_("The return exceeds what was shipped of the batch less what was already returned")
