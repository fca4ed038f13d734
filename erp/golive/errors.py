"""Refusals of go-live imports and their undo (more live beside the code that raises
them: ``framework.AlreadyImported``, ``files.UnreadableFile``)."""

from __future__ import annotations

from erp.errors import Conflict, ValidationFailed
from erp.messages import N_


class CompanyRequired(ValidationFailed):
    """Imports of one company's records (warehouses, prices, opening stock, orders) name
    the company they are for."""

    slug = "company-required"
    title = N_("The import needs a company")
    remedy = N_("Send company_id with the import.")


class GoLiveDateRequired(ValidationFailed):
    """Imports that post opening balances are dated: the go-live date is the posting date
    of every opening balance."""

    slug = "go-live-date-required"
    title = N_("The import needs the go-live date")
    remedy = N_("Send go_live_date with the import (the CLI's --date).")


class ImportNotCommitted(Conflict):
    """Only a committed import can be undone (a dry run or a failed import wrote nothing)."""

    slug = "import-not-committed"
    title = N_("The import is not committed")
    remedy = N_("Nothing to undo.")


class ImportInUse(Conflict):
    """An import is undone only while nothing rests on what it wrote: records used by
    others, prices that valued postings and limits changed since stay."""

    slug = "import-in-use"
    title = N_("What the import wrote is already in use")
    remedy = N_("Correct the records one by one (deactivate, change, set a new price or limit) instead of "
                "undoing the import.")


class ImportPosted(Conflict):
    """Opening stock is posted, and postings are never deleted: it is corrected by new
    postings (stock adjustments), not by undoing its import."""

    slug = "import-posted"
    title = N_("The import is posted")
    remedy = N_("Correct the opening stock with stock adjustments.")


class ImportInProgress(Conflict):
    """Imports of a kind run one at a time (per company for a company's opening balances,
    prices and orders), so that each checks its unique values against what the previous one
    committed. An import waits a while for the one running; if that one is still running
    then, it is refused instead of waiting without end."""

    slug = "import-in-progress"
    title = N_("Another import of this kind is running")
    remedy = N_("Wait until the other import has finished (its job shows its progress), then send the file again.")


class ImportHasErrors(Conflict):
    """An import writes all of its file or nothing: a file with any row error is refused
    whole, with every row error listed."""

    slug = "import-has-errors"
    title = N_("The file has row errors; nothing was imported")
    remedy = N_("Correct the rows the errors name (a dry run lists them) and import the whole file again.")
