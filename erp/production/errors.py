"""Refusals of the production module: bills of materials, the cost roll-up, production orders."""

from __future__ import annotations

from erp.errors import Conflict, DomainError
from erp.messages import N_
from erp.unique import unique_refusal
from erp.costing.errors import StandardPriceInUse  # noqa: F401 - re-exported
from erp.posting.errors import NoStandardPrice, PeriodClosed  # noqa: F401 - re-exported


class NotAMadeMaterial(DomainError):
    """Only intermediates and finished products have bills of materials: raw materials,
    packaging and trade goods are bought, and their standard price is set, not rolled up."""

    slug = "not-a-made-material"
    title = N_("This material is not made in-house")
    remedy = N_("Choose an intermediate or finished material for the bill of materials.")


class InvalidBom(DomainError):
    """A bill of materials needs at least one component, each once, none of them the made
    material itself, and a cost centre whenever it books hours."""

    slug = "invalid-bom"
    title = N_("The bill of materials is not valid")
    remedy = N_("Correct the components the detail names and send the bill of materials again.")


class BomVersionNotLater(Conflict):
    """A new version of a bill of materials takes effect after the versions it follows:
    versions are never edited or backdated, so what an order or a roll-up used stays as it was."""

    slug = "bom-version-not-later"
    title = N_("The new version must take effect after the current one")
    remedy = N_("Give the new version a validity date after the latest version's.")


class BomCycle(Conflict):
    """A material cannot be, through any number of levels, a component of itself: its cost
    could not be rolled up and an order for it could never be completed."""

    slug = "bom-cycle"
    title = N_("The bills of materials form a cycle")
    remedy = N_("Remove the component the detail names from one of the bills of materials in the cycle.")


class NoCostCenterRate(DomainError):
    """The roll-up values a BOM's hours at its cost centre's standard rates for the period;
    a cost centre without rates cannot be costed."""

    slug = "no-cost-center-rate"
    title = N_("A cost centre has no standard rates")
    remedy = N_("Set the cost centre's labour and overhead rates for the period, then run the roll-up again.")


class RollupAlreadyReleased(Conflict):
    """A released roll-up set the period's standard prices: it is the record of where they
    came from and is neither run again nor released twice."""

    slug = "rollup-already-released"
    title = N_("The roll-up has already been released")
    remedy = N_("Run a new roll-up for a later period to change the standard costs.")


class RollupRunConcurrently(Conflict):
    """A company and period have one roll-up: when two cost accountants run the first one at
    the same moment, the one that writes second is refused rather than leaving two runs that
    could both be released."""

    slug = "rollup-run-concurrently"
    title = N_("Another roll-up of the company and period was run at the same moment")
    remedy = N_("Look at the roll-up the other run wrote, and run it again if it is still to be replaced.")


unique_refusal("uq_cost_rollups_company_period", RollupRunConcurrently,
               N_("a roll-up of {value} was written at the same moment by another user; nothing was written"))


class NoBomInForce(DomainError):
    """A production order is made from the bill of materials in force on its date in its
    company; without one there is nothing to plan or cost it by."""

    slug = "no-bom-in-force"
    title = N_("No bill of materials is in force")
    remedy = N_("Create a bill of materials valid from the order's date or earlier, or change the order's date.")


class ProductionOrderState(Conflict):
    """A production order moves created -> released -> completed (a created one may be
    cancelled); components are issued and output delivered only while it is released."""

    slug = "production-order-state"
    title = N_("The production order's status does not allow this")
    remedy = N_("Release the order first, or use an order that is still released.")


class OverIssueNeedsReason(DomainError):
    """Issuing more of a component than the order's bill of materials requires (its planned
    quantity, the scrap allowance included) is allowed, as a goods issue to an order beyond
    its tolerance is, only with a reason: the excess is the order's input quantity variance,
    and the reason goes into the audit trail with it."""

    slug = "over-issue-needs-reason"
    title = N_("More than the bill of materials requires")
    remedy = N_("Check the quantity; if more is really needed (breakage, a rework), give the reason for the "
                "over-issue and issue again.")


class NotAComponent(DomainError):
    """Only the components of an order's bill of materials are issued to it; anything else
    would be cost no standard explains."""

    slug = "not-a-component"
    title = N_("The material is not a component of the order")
    remedy = N_("Issue one of the order's components, or issue the material to a cost centre instead.")


class OutputBatchTaken(Conflict):
    """An order's output goes into a batch of its own: a batch number already used by stock
    from elsewhere (a supplier, another order) cannot take it, or the genealogy would mix them."""

    slug = "output-batch-taken"
    title = N_("The batch number is already used")
    remedy = N_("Deliver into a new batch number, or into this order's own batch.")


class OutputBatchUsed(Conflict):
    """A delivery is reversed only while what it put into its batch is still there, untouched:
    once the batch was issued, shipped, moved or scrapped, the output is part of other
    postings (and of the genealogy of what was made from it)."""

    slug = "output-batch-used"
    title = N_("The delivered batch has already been used")
    remedy = N_("Reverse the postings that used the batch first, or correct the order with a new posting.")
