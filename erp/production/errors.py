"""Refusals of the production module: bills of materials, the cost roll-up, production orders."""

from __future__ import annotations

from erp.errors import Conflict, DomainError
from erp.messages import N_
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
