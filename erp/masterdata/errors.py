"""Refusals of the group master: each names the rule that was broken."""

from __future__ import annotations

from erp.errors import Conflict, DomainError, ValidationFailed
from erp.messages import N_
from erp.unique import unique_refusal


class DuplicateCode(Conflict):
    """A code names one record group-wide: one material, supplier, customer, company,
    warehouse or unit per code, so the same thing is never entered twice."""

    slug = "duplicate-code"
    title = N_("The code is already used")
    remedy = N_("Open the record the detail names instead of creating another, or choose another code.")


class DuplicateUscc(Conflict):
    """The unified social credit code (GB 32100-2015) identifies a legal entity: one
    supplier and one customer per code for the whole group, whichever company met it first."""

    slug = "duplicate-uscc"
    title = N_("The unified social credit code is already used")
    remedy = N_("Use the existing partner the detail names; a partner is shared by every company.")


class DuplicateCustomerId(Conflict):
    """A group company stands for one customer record (the one other companies sell to it
    as), and that customer for one company."""

    slug = "duplicate-customer-id"
    title = N_("The customer already stands for another company")
    remedy = N_("Link the company to its own customer record, or unlink the other company first.")


class DuplicateSupplierId(Conflict):
    """A group company stands for one supplier record (the one other companies buy from it
    as), and that supplier for one company."""

    slug = "duplicate-supplier-id"
    title = N_("The supplier already stands for another company")
    remedy = N_("Link the company to its own supplier record, or unlink the other company first.")


# The refusal of a repeated value, by the unique field.
DUPLICATE_REFUSALS: dict[str, type[DomainError]] = {
    "code": DuplicateCode, "uscc": DuplicateUscc, "customer_id": DuplicateCustomerId,
    "supplier_id": DuplicateSupplierId,
}


class NoGroup(Conflict):
    """Segments belong to the group, which must exist first (it is loaded with the
    organisation at go-live)."""

    slug = "no-group"
    title = N_("The group does not exist yet")
    remedy = N_("Load the organisation (flask demo load, or the go-live import) before creating segments.")


class WarehouseInUse(Conflict):
    """A warehouse changes company only while nothing binds it to its company: no stock,
    no open orders delivering to it, no clerks bound to it."""

    slug = "warehouse-in-use"
    title = N_("The warehouse is in use")
    remedy = N_("Empty the warehouse, finish or cancel its orders and rebind its clerks, or create a new "
                "warehouse for the other company.")


class IntercompanyPartnerNotTheCompany(DomainError):
    """A group company is linked only to the customer or supplier record of the same legal
    entity: the company's unified social credit code must be recorded and equal the
    record's. Trade with a linked record is intercompany and leaves the group's figures, so
    a record of an outside partner linked by mistake would hide genuine receivables or
    payables. The identity is checked whenever the link or either side's code changes."""

    status = 422
    slug = "intercompany-partner-not-the-company"
    title = N_("The record is not the same legal entity as the company")
    remedy = N_("Link the record that carries the company's own unified social credit code (record the "
                "company's code first if it has none), or create one for the company.")


class IntercompanyPartnerHasHistory(Conflict):
    """A customer or supplier record is linked to a group company, re-linked or unlinked only
    while it carries no documents: its orders, invoices, payments and stock documents were
    booked as trade with an outside party (or, once linked, as intercompany trade), and a
    change of the link would re-classify that history in the group's figures."""

    slug = "intercompany-partner-has-history"
    title = N_("The record already carries documents")
    remedy = N_("Create a new customer or supplier record for the company (with its unified social credit "
                "code) and link that one; documents already booked stay with the partner they were made with.")


class DeactivationBlocked(Conflict):
    """A company, warehouse or material is deactivated only when nothing is left to finish:
    no stock on hand, no open purchase, sales or production orders, no period with
    postings still to close (a customer or supplier: no open orders). Deactivated, it drops
    off the boards and lists that would otherwise show what is left."""

    slug = "deactivation-blocked"
    title = N_("The record still has stock or open documents")
    remedy = N_("Move or use up the stock, finish or cancel the open orders and close the periods the "
                "detail names, then deactivate.")


class RecordInUse(Conflict):
    """A master record that other records refer to is never deleted: history must keep
    pointing at it."""

    slug = "record-in-use"
    title = N_("The record is in use")
    remedy = N_("Deactivate the record instead: it stays in history and takes no new business.")


class StorageConditionsNotMet(DomainError):
    """A material goes only into a warehouse whose temperature range and maximum humidity
    hold its storage requirement (GSP): on order lines and on receipts and transfers."""

    status = 422
    slug = "storage-conditions-not-met"
    title = N_("The warehouse cannot store the material")
    remedy = N_("Choose a warehouse whose storage conditions hold the material's requirement.")


class MaterialInactive(DomainError):
    """A deactivated material takes no new business: no orders, contracts or sales."""

    status = 422
    slug = "material-inactive"
    title = N_("The material is inactive")
    remedy = N_("Choose an active material, or ask a master-data steward to reactivate it.")


class SupplierBlocked(DomainError):
    """Nobody orders from, or makes a contract with, a blocked supplier."""

    status = 422
    slug = "supplier-blocked"
    title = N_("The supplier is blocked")
    remedy = N_("Choose another supplier, or ask a master-data steward why it is blocked.")


class CustomerInactive(DomainError):
    """A deactivated customer takes no new orders."""

    status = 422
    slug = "customer-inactive"
    title = N_("The customer is inactive")
    remedy = N_("Ask a master-data steward to reactivate the customer if it still buys.")


class TaxCodeNotInForce(ValidationFailed):
    """A line is taxed by a VAT code that is active and valid on the line's date."""

    slug = "tax-code-not-in-force"
    title = N_("The tax code is not in force on this date")
    remedy = N_("Choose a tax code valid on the document's date, or ask a steward to extend its validity.")


class NoTaxCode(ValidationFailed):
    """Every line is taxed: its own VAT code, else the partner's default, else the material's."""

    slug = "no-tax-code"
    title = N_("No tax code applies to the line")
    remedy = N_("Give a tax code on the line, or ask a steward to set a default on the material or the partner.")


# The same rules when two users write the same value at once (erp.unique): the index refuses
# the second.
for _table in ("groups", "segments", "companies", "warehouses", "units", "tax_codes", "materials", "suppliers",
               "customers"):
    unique_refusal(f"uq_{_table}_code", DuplicateCode, N_("the code {value} is already used"))
for _table in ("companies", "suppliers", "customers"):
    unique_refusal(f"uq_{_table}_uscc", DuplicateUscc, N_("the unified social credit code {value} is already used"))
unique_refusal("uq_companies_customer_id", DuplicateCustomerId,
               N_("the customer already stands for another company"))
unique_refusal("uq_companies_supplier_id", DuplicateSupplierId,
               N_("the supplier already stands for another company"))
