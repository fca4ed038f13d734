"""Purchasing's broken rules, each with a stable problem type (the slug after /problems/)."""

from __future__ import annotations

from erp.messages import N_
from erp.errors import Conflict, DomainError, Forbidden, ValidationFailed
from erp.purchasing.rights import MASTER_DATA_RULES, RightsDecision


class PurchasingRightDenied(Forbidden):
    """The purchasing-rights rule refused the order line; the slug is the rule's."""

    title = N_("Outside your purchasing rights")


class PurchasingMasterDataRefused(DomainError):
    """The material is inactive or the supplier blocked; the slug is the rule's."""

    status = 422
    title = N_("The material or supplier takes no new orders")


def refusal(decision: RightsDecision, pointer: str) -> DomainError:
    """The error for a refused rights decision, pointing at the field that carried it."""
    error_class = PurchasingMasterDataRefused if decision.rule in MASTER_DATA_RULES else PurchasingRightDenied
    return error_class(
        decision.reason, slug=decision.rule, errors=[{"pointer": pointer, "detail": decision.reason}]
    )


class LineRefused(DomainError):
    """An order or contract line broke a rule; ``pointer`` names the field."""

    status = 422

    def __init__(self, detail: str, *, pointer: str, **kwargs: object) -> None:
        super().__init__(detail, errors=[{"pointer": pointer, "detail": detail}], **kwargs)  # type: ignore[arg-type]


class NoValidContract(LineRefused):
    slug = "no-valid-contract"
    title = N_("No valid contract for this supplier, company, material and date")


class ContractLineNotApplicable(LineRefused):
    slug = "contract-line-not-applicable"
    title = N_("The named contract line is not the one that applies")


class WarehouseNotOfReceivingCompany(LineRefused):
    slug = "warehouse-not-of-receiving-company"
    title = N_("The delivery warehouse belongs to another company")


class WarehouseInactive(LineRefused):
    slug = "warehouse-inactive"
    title = N_("The delivery warehouse is inactive")


class StorageConditionsNotMet(LineRefused):
    slug = "storage-conditions-not-met"
    title = N_("The warehouse cannot store the material")


class QuantityNotPositive(LineRefused):
    slug = "quantity-not-positive"
    title = N_("Quantities must be positive")


class QuantityTooLarge(LineRefused):
    slug = "quantity-too-large"
    title = N_("The quantity is beyond any plausible order")


class QuantityTooPrecise(LineRefused):
    slug = "quantity-too-precise"
    title = N_("The quantity has more decimals than its unit allows")


class OrderDateInPast(ValidationFailed):
    slug = "order-date-in-past"
    title = N_("Orders cannot be backdated")


class ContractOverlap(Conflict):
    slug = "contract-overlap"
    title = N_("Another contract already covers this supplier, material and period")


class GroupContractNeedsGroupBuyer(Forbidden):
    slug = "group-contract-needs-group-buyer"
    title = N_("Only central purchasing makes group contracts")


class TransitionNotAllowed(Conflict):
    slug = "status-transition-not-allowed"
    title = N_("Not allowed in the record's current status")


class OrderHasReceipts(Conflict):
    slug = "order-has-receipts"
    title = N_("Goods have been received against the order")


class ApproverIsCreator(Forbidden):
    slug = "approver-is-creator"
    title = N_("Nobody approves their own order")


class ExceptionForLocalMaterial(ValidationFailed):
    slug = "exception-for-local-material"
    title = N_("Exceptions are for central materials")
