"""Purchasing's broken rules, each with a stable problem type (the slug after /problems/)."""

from __future__ import annotations

from erp.errors import Conflict, DomainError, Forbidden, ValidationFailed
from erp.masterdata import errors as masterdata_errors
from erp.messages import N_, Message
from erp.unique import unique_refusal
from erp.purchasing import rights
from erp.purchasing.rights import MASTER_DATA_RULES, RightsDecision


class PurchasingRightDenied(Forbidden):
    """Central-scope materials are ordered by central purchasing (a group buyer) for any
    company; local-scope materials by a buyer of the receiving company; a steward's dated
    exception lets a company buy a central material. The type names the rule that refused."""

    title = N_("Outside your purchasing rights")
    remedy = N_("Ask the buyers the rule names to place the order, or a steward for a dated purchasing exception.")
    slugs = (rights.NOT_A_BUYING_ROLE, rights.NOT_BUYER_OF_RECEIVING_COMPANY,
             rights.CENTRAL_MATERIAL_NEEDS_GROUP_PURCHASING, rights.LOCAL_MATERIAL_NEEDS_COMPANY_BUYER)


# The master data's refusals, by the rule of the rights decision that names them.
MASTER_DATA_REFUSALS: dict[str, type[DomainError]] = {
    rights.MATERIAL_INACTIVE: masterdata_errors.MaterialInactive,
    rights.SUPPLIER_BLOCKED: masterdata_errors.SupplierBlocked,
}


def refusal(decision: RightsDecision, pointer: str) -> DomainError:
    """The error for a refused rights decision, pointing at the field that carried it."""
    if decision.rule in MASTER_DATA_RULES:
        return MASTER_DATA_REFUSALS[decision.rule](
            decision.reason, errors=[{"pointer": pointer, "detail": decision.reason}])
    return PurchasingRightDenied(
        decision.reason, slug=decision.rule, errors=[{"pointer": pointer, "detail": decision.reason}]
    )


class LineRefused(DomainError):
    """An order or contract line broke a rule; ``pointer`` names the field."""

    status = 422

    def __init__(self, detail: str | Message, *, pointer: str, **kwargs: object) -> None:
        super().__init__(detail, errors=[{"pointer": pointer, "detail": detail}], **kwargs)  # type: ignore[arg-type]


class NoValidContract(LineRefused):
    """Nobody types prices: an order line takes its price from a released contract of the
    supplier for the material, valid on the order date, for the receiving company (or a
    group contract)."""

    slug = "no-valid-contract"
    title = N_("No valid contract for this supplier, company, material and date")
    remedy = N_("Order from a supplier with a valid contract, or ask purchasing to negotiate one.")


class ContractLineNotApplicable(LineRefused):
    """An order line that names its contract line must name the one that applies to it
    (supplier, material, company, date)."""

    slug = "contract-line-not-applicable"
    title = N_("The named contract line is not the one that applies")
    remedy = N_("Leave the contract line out (the applicable one is found) or name the right one.")


class CentralMaterialInCompanyContract(LineRefused):
    """Central materials are bought by central purchasing (the purchasing rights): a
    company contract may price one only while a steward's exception lets that company buy it,
    over the whole of the contract's validity. Otherwise the company's price would win over
    the group contract's on central purchasing's own orders for that company."""

    slug = "central-material-in-company-contract"
    title = N_("A company contract prices a central material only under a steward's exception")
    remedy = N_("Leave the material to the group contract, or ask a steward for a purchasing exception that covers "
                "the contract's validity.")


class WarehouseNotOfReceivingCompany(LineRefused):
    """Goods are delivered to a warehouse of the company that receives them."""

    slug = "warehouse-not-of-receiving-company"
    title = N_("The delivery warehouse belongs to another company")
    remedy = N_("Choose a warehouse of the receiving company.")


class WarehouseInactive(LineRefused):
    """A deactivated warehouse takes no new deliveries."""

    slug = "warehouse-inactive"
    title = N_("The delivery warehouse is inactive")
    remedy = N_("Choose an active warehouse.")


class StorageConditionsNotMet(LineRefused, masterdata_errors.StorageConditionsNotMet):
    """The master data's storage rule, pointing at the order line's warehouse."""


class QuantityNotPositive(LineRefused):
    """Ordered and contracted quantities are positive."""

    slug = "quantity-not-positive"
    title = N_("Quantities must be positive")
    remedy = N_("Give a quantity above zero.")


class QuantityTooLarge(LineRefused):
    """A line's quantity and amount stay within what any real order holds (and what the
    books can carry)."""

    slug = "quantity-too-large"
    title = N_("The quantity is beyond any plausible order")
    remedy = N_("Check the quantity and its unit.")


class QuantityTooPrecise(LineRefused):
    """A quantity has no more decimals than its unit of measure allows (whole boxes, grams
    to three places of a kilogram)."""

    slug = "quantity-too-precise"
    title = N_("The quantity has more decimals than its unit allows")
    remedy = N_("Round the quantity to the unit's decimals.")


class OrderDateInPast(ValidationFailed):
    """Orders are dated the day they are placed or later: a backdated order could pick an
    expired contract's price."""

    slug = "order-date-in-past"
    title = N_("Orders cannot be backdated")
    remedy = N_("Date the order today or later.")


class ContractOverlap(Conflict):
    """One contract serves a supplier, material and company (or the group) at any date: two
    overlapping ones would leave the price ambiguous."""

    slug = "contract-overlap"
    title = N_("Another contract already covers this supplier, material and period")
    remedy = N_("End the other contract first, or start this one after it ends.")


class GroupContractNeedsGroupBuyer(Forbidden):
    """Group contracts bind every company: only central purchasing negotiates them."""

    slug = "group-contract-needs-group-buyer"
    title = N_("Only central purchasing makes group contracts")
    remedy = N_("Ask a group buyer, or make a company contract for your company.")


class StatusTransitionNotAllowed(Conflict):
    """Orders and contracts move through their statuses in the allowed order only (a draft
    is submitted, approved, released; only drafts change; a closed order stays closed)."""

    slug = "status-transition-not-allowed"
    title = N_("Not allowed in the record's current status")
    remedy = N_("Reload the record and do what its current status allows.")


class OrderHasGoodsInTransit(Conflict):
    """A group company has shipped goods against the order on an intercompany sales order and
    the buyer has not received them yet: cancelled or closed, the order could never receive
    them and they would stay in transit for good."""

    slug = "order-has-goods-in-transit"
    title = N_("A group company's goods shipped against the order are not yet received")
    remedy = N_("Receive the goods first, or have the selling company take them back (a return on its sales "
                "order), then cancel or close the order.")


class OrderHasOpenIntercompanySales(Conflict):
    """A group company has confirmed a sales order against the order's line and has not yet
    shipped all of it: cancelled or closed, the order could not receive what the seller
    has committed to deliver (its shipment would be refused, or stay in transit for good)."""

    slug = "order-has-open-intercompany-sales"
    title = N_("A group company's confirmed sales order against the order is not yet shipped")
    remedy = N_("Ask the selling company to cancel what is still to ship of its sales order, then cancel or close "
                "the order.")


class OrderHasReceipts(Conflict):
    """An order against which goods were received cannot be cancelled: the receipts stay,
    and the rest of the order is closed short instead."""

    slug = "order-has-receipts"
    title = N_("Goods have been received against the order")
    remedy = N_("Close the order short instead of cancelling it, or reverse its receipts first.")


class ApproverIsCreator(Forbidden):
    """Four eyes: nobody approves their own order."""

    slug = "approver-is-creator"
    title = N_("Nobody approves their own order")
    remedy = N_("Ask another purchasing manager to approve it.")


class ExceptionForLocalMaterial(ValidationFailed):
    """Purchasing exceptions let a company buy a central material; a local material needs none."""

    slug = "exception-for-local-material"
    title = N_("Exceptions are for central materials")
    remedy = N_("No exception is needed: the company's buyers order local materials themselves.")


class DuplicateNumber(Conflict):
    """A contract's number is unique group-wide."""

    slug = "duplicate-number"
    title = N_("The number is already used")
    remedy = N_("Choose another number.")


class ExceptionAlreadyRevoked(Conflict):
    """A purchasing exception is revoked once."""

    slug = "exception-already-revoked"
    title = N_("The exception is already revoked")
    remedy = N_("Nothing to do: the exception no longer applies.")


class NotPurchaserOfOrder(Forbidden):
    """An order is changed, submitted or cancelled by the buyers (and purchasing managers) of
    the organisation that places it: central purchasing for central orders, the company's
    own for local ones."""

    slug = "not-purchaser-of-order"
    title = N_("The order belongs to other buyers")
    remedy = N_("Ask a buyer of the organisation that placed the order.")


class NotApproverOfOrder(Forbidden):
    """An order is approved by a purchasing manager of its organisation: group-wide for
    central orders, of the receiving company for local ones."""

    slug = "not-approver-of-order"
    title = N_("You do not approve orders of this organisation")
    remedy = N_("Ask a purchasing manager of the organisation the detail names.")


unique_refusal("uq_contracts_number", DuplicateNumber, N_("a contract numbered {value} already exists"))
