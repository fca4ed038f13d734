"""Refusals of quality (each a stable problem type with its rule and a remedy)."""

from __future__ import annotations

from erp.errors import Conflict, DomainError, Forbidden
from erp.messages import N_


class SpecificationDateTaken(Conflict):
    """A material has at most one specification version per effective date; versions are
    never edited, so a change takes effect on a later date as a new version."""

    slug = "specification-date-taken"
    title = N_("A version of this specification already takes effect on that date")
    remedy = N_("Date the new version on another day; a version in force is never edited.")


class LotNotOpen(Conflict):
    """Results are recorded and a usage decision signed only on an open inspection lot:
    a decided or cancelled lot is closed for good."""

    slug = "lot-not-open"
    title = N_("The inspection lot is already decided or cancelled")
    remedy = N_("Look at the lot's usage decision; a new problem with the batch needs a new lot.")


class ResultNotApplicable(DomainError):
    """A result belongs to a characteristic of the lot's specification and takes the form
    the characteristic asks for: a number for numeric limits, a text for a text criterion."""

    status = 422
    slug = "result-not-applicable"
    title = N_("The result does not fit the lot's specification")
    remedy = N_("Record results for the characteristics the specification lists, as numbers or texts as it asks.")


class ResultsIncomplete(Conflict):
    """A lot is released only when the laboratory has a result for every characteristic
    of the specification in force (a release judges all of them)."""

    slug = "results-incomplete"
    title = N_("Results are missing for some characteristics")
    remedy = N_("Record the missing results first, or reject the lot.")


class OutOfSpecification(Conflict):
    """A lot with any result out of specification is released only under a deviation:
    its reference and the reason the batch may still be used (EU GMP Chapter 1.4 (xiv),
    deviations investigated and documented)."""

    slug = "out-of-specification"
    title = N_("Results out of specification: a release needs a deviation")
    remedy = N_("Give the deviation's reference and the reason for the release, or reject the lot.")


class SignerRecordedResults(Forbidden):
    """Four eyes: whoever recorded a laboratory result of a lot cannot sign its usage
    decision."""

    slug = "signer-recorded-results"
    title = N_("You recorded results of this lot and cannot also sign its decision")
    remedy = N_("Ask another QA person to sign the usage decision.")


class SignatureNotVerified(Forbidden):
    """An electronic signature is given by re-entering one's password at the moment of
    signing (21 CFR 11.200(a)); a wrong password signs nothing, and the attempt is recorded."""

    slug = "signature-not-verified"
    title = N_("The password given for the signature is wrong")
    remedy = N_("Re-enter your own password to sign; repeated failures are visible in the audit trail.")


class NoStockOnHold(Conflict):
    """A usage decision moves the lot's stock out of quarantine; when none of it is left
    there (returned, reversed or scrapped), there is nothing to decide on."""

    slug = "no-stock-on-hold"
    title = N_("None of the lot's stock is in quarantine")
    remedy = N_("Look at the batch's flow; cancel the lot if its stock is gone.")


class LoggerNotRecognised(DomainError):
    """A data logger posts readings with its own token, registered for one warehouse."""

    status = 401
    slug = "logger-not-recognised"
    title = N_("Unknown or inactive data logger token")
    remedy = N_("Register the logger with quality and configure the token it was given.")


class ReadingsInvalid(DomainError):
    """Sensor logs are CSV with a header ``read_at,temperature,humidity``: an ISO 8601
    instant with its offset, °C and % relative humidity (empty if the logger has none)."""

    status = 422
    slug = "readings-invalid"
    title = N_("The readings cannot be read")
    remedy = N_("Correct the rows the detail names and send the file again; nothing was stored.")


class InspectionLotOpen(Conflict):
    """Once a material has a specification, stock under an open inspection lot leaves
    quarantine only through the lot's signed usage decision, not a plain quality decision."""

    slug = "inspection-lot-open"
    title = N_("The batch is under an open inspection lot: decide it with a signed usage decision")
    remedy = N_("Open the inspection lot, record the results and have QA sign the usage decision.")


class SignedReleaseRequired(Conflict):
    """Stock of a material that needs inspection leaves quarantine for use only through
    QA's signed usage decision on an inspection lot (EU GMP 1.4 (xv), Annex 16; 21 CFR
    211.84): a plain quality decision may reject it, never release it."""

    slug = "signed-release-required"
    title = N_("Only QA's signed usage decision releases an inspected material")
    remedy = N_("Release it through its inspection lot: results against the specification, then QA's signature.")


class SpecificationBackDated(DomainError):
    """A specification version takes effect on the business day or later: goods received
    and lots judged under the version then in force keep it (data integrity: the rules
    applied to a batch are not rewritten afterwards)."""

    status = 422
    slug = "specification-back-dated"
    title = N_("A specification version cannot take effect before today")
    remedy = N_("Date the version today or later; lots already opened keep the version they were judged under.")


class InspectionLotHoldsStock(Conflict):
    """Quarantined stock under an open inspection lot moves to another warehouse only as a
    whole, and its lot moves with it: a lot is one decision on one quantity in one place, and
    held goods stay under their hold wherever they go (GMP: quarantine status is kept and
    traceable). Moving part of it would leave the lot covering goods that have gone, and put
    the moved goods out of any lot."""

    slug = "inspection-lot-holds-stock"
    title = N_("An inspection lot holds this stock: it moves only as a whole, with its lot")
    remedy = N_("Transfer all of the batch's quarantined stock in the warehouse (its lot goes with it), or let QA "
                "decide the lot first.")
