"""The go-live import page (finding 115): the accountants and master-data stewards who
migrate a company choose the import and the company, download the template, upload the
file and see its dry run first (every refused row with its row number, column and reason,
and what would be posted: stock per warehouse, receivables per customer); confirmed, the
same file is imported for real, and the page lists the documents it posted.

Both runs are the import jobs of the API (erp.golive.jobs): the dry run writes nothing, the
commit writes the whole file or, if any row is refused, nothing. The page can be left and
come back to while a job runs.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

from flask import Response, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from erp.auth.roles import Actor, Role
from erp.errors import DomainError, NotFound, ValidationFailed
from erp.golive import messages
from erp.golive.framework import ImportKind
from erp.golive.jobs import JOB_PREFIX, job_kind_name
from erp.golive.kinds import KINDS
from erp.golive.results import posted_documents
from erp.golive.templates import xlsx_template
from erp.jobs.api import job_runner, job_view
from erp.jobs.services import create_job, get_job
from erp.masterdata.models import Company
from erp.messages import N_, Message, message_from_data
from erp.ui import nav
from erp.ui.i18n import current_language
from erp.ui.pages import PageBlueprint, form_refusal, require_role
from erp.web import accepts_upload, after_commit, transaction

bp = PageBlueprint("golive_pages", __name__, url_prefix="/golive")

IMPORTERS: set[Role] = {role for kind in KINDS.values() for role in kind.roles}
nav.add("masterdata", "golive_pages.imports", N_("Go-live imports"), IMPORTERS)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# What the counts of a result mean (erp.golive.kinds: run.count).
COUNT_LABELS = {
    "created": N_("records created"), "matched": N_("matched to the group master"), "rows": N_("stock rows"),
    "documents": N_("stock documents"), "inspection_lots": N_("inspection lots"), "invoices": N_("invoices"),
    "orders": N_("orders"), "order_lines": N_("order lines"), "contracts": N_("contracts"),
    "contract_lines": N_("contract lines"),
}
DOCUMENT_LABELS = {"stock_documents": N_("Opening stock document"), "purchase_orders": N_("Purchase orders opened"),
                   "invoices": N_("Invoices taken over")}


def _kinds_for(actor: Actor) -> list[ImportKind]:
    return [kind for kind in KINDS.values() if actor.role in kind.roles]


def _companies(db: Session, actor: Actor) -> list[Company]:
    return list(db.scalars(select(Company).where(Company.active.is_(True), actor.company_scope(Company.id))
                           .order_by(Company.code)))


def _kind(name: str | None) -> ImportKind:
    if not name or name not in KINDS:
        raise NotFound(Message("no import of kind {kind}", kind=name or ""))
    return KINDS[name]


def _form_page(db: Session, actor: Actor, values: dict[str, Any], refusal: dict[str, Any] | None = None,
               status: int = 200) -> tuple[str, int]:
    kinds = _kinds_for(actor)
    chosen = KINDS.get(values.get("kind") or "") or (kinds[0] if kinds else None)
    return render_template("golive/imports.html", kinds=kinds, chosen=chosen, companies=_companies(db, actor),
                           values=values, error=(refusal or {}).get("error"),
                           field_errors=(refusal or {}).get("field_errors", {})), status


@bp.route("/imports")
@transaction
def imports(db: Session, actor: Actor) -> tuple[str, int]:
    """The import form: which import, for which company, the template, the file."""
    require_role(*IMPORTERS)
    return _form_page(db, actor, {"kind": request.args.get("kind", ""), "company_id": request.args.get("company_id", ""),
                                  "go_live_date": request.args.get("go_live_date", "")})


@bp.route("/imports/<kind>/template.xlsx")
@transaction
def template(db: Session, actor: Actor, kind: str) -> Response:
    """The template of an import (XLSX): the headers the import reads, an example row, and a
    sheet explaining each column."""
    require_role(*IMPORTERS)
    spec = _kind(kind)
    return Response(xlsx_template(spec), mimetype=XLSX, headers={
        "Content-Disposition": f'attachment; filename="heyi-import-{kind}.xlsx"'})


def _checked_form(db: Session, actor: Actor, form: Any, upload: Any) -> tuple[ImportKind, int | None, dt.date | None]:
    """The form's choices, each refused beside its field."""
    spec = _kind(form.get("kind"))
    problems: list[dict[str, Any]] = []
    company_id: int | None = None
    if spec.company_scoped:
        text = (form.get("company_id") or "").strip()
        company = db.get(Company, int(text)) if text.isdigit() else None
        if company is None:
            problems.append({"pointer": "/company_id", "detail": Message("choose the company the file is for")})
        else:
            company_id = company.id
    go_live: dt.date | None = None
    if spec.needs_go_live_date:
        try:
            go_live = dt.date.fromisoformat((form.get("go_live_date") or "").strip())
        except ValueError:
            problems.append({"pointer": "/go_live_date", "detail": Message("give the go-live date")})
    if upload is None or not upload.filename:
        problems.append({"pointer": "/file", "detail": Message("choose the file to import (XLSX or CSV)")})
    if problems:
        raise ValidationFailed(Message("the import cannot start: see the fields marked"), errors=problems)
    spec.check_rights(actor, db.get(Company, company_id) if company_id is not None else None)
    return spec, company_id, go_live


def upload_dir() -> Path:
    from erp.golive.api import upload_dir as uploads

    return uploads()


@bp.route("/imports", methods=["POST"])
@accepts_upload  # spreadsheets: ERP_MAX_UPLOAD_BYTES, not the 1 MiB of other requests
@transaction(retry=False)  # the upload's stream is read once
def check(db: Session, actor: Actor) -> Any:
    """Check the uploaded file: a dry run (a job), whose page shows every refused row and what
    the import would post, and offers to import it."""
    require_role(*IMPORTERS)
    form = request.form
    upload = request.files.get("file")
    try:
        spec, company_id, go_live = _checked_form(db, actor, form, upload)
    except DomainError as exc:
        return _form_page(db, actor, dict(form), form_refusal(exc), exc.status)
    suffix = Path(upload.filename or "").suffix.lower()[:8]
    path = upload_dir() / f"{uuid.uuid4().hex}{suffix}"
    upload.save(path)
    job = _queue(db, actor, spec, company_id, {"path": str(path), "file_name": upload.filename or path.name,
                                                "go_live_date": go_live.isoformat() if go_live else None},
                 dry_run=True)
    return redirect(url_for("golive_pages.job", job_id=job.id))


def _queue(db: Session, actor: Actor, spec: ImportKind, company_id: int | None, params: dict[str, Any], *,
           dry_run: bool) -> Any:
    # The dry run keeps the file for the import that follows it; the import removes it.
    job = create_job(db, actor, kind=job_kind_name(spec.name), company_id=company_id, params={
        **params, "kind": spec.name, "dry_run": dry_run, "delete_after": not dry_run})
    after_commit(lambda: job_runner().submit(job.id))  # its worker must see the committed job
    return job


def _import_job(db: Session, actor: Actor, job_id: int) -> Any:
    require_role(*IMPORTERS)
    job = get_job(db, actor, job_id)
    if not job.kind.startswith(JOB_PREFIX) or (job.params or {}).get("kind") not in KINDS:
        raise NotFound(Message("job {key} not found", key=job_id))
    return job


def _may_import(job: Any, view: dict[str, Any]) -> bool:
    """A dry run that found no error, whose file is still here, may be imported."""
    params = job.params or {}
    result = view.get("result") or {}
    return (view["status"].value == "succeeded" and bool(params.get("dry_run")) and result.get("error_count") == 0
            and Path(params.get("path") or "").is_file())


def _job_context(db: Session, actor: Actor, job: Any) -> dict[str, Any]:
    view = job_view(job)
    lang = current_language()
    params = job.params or {}
    spec = KINDS[params["kind"]]
    errors = sorted(messages.render_all(view.get("errors") or [], lang), key=lambda e: (e.get("row") or 0))
    for error in errors:
        column = spec.column(error["column"]) if error.get("column") else None
        error["column_label"] = (column.zh if lang == "zh" else column.en) if column is not None else error.get("header")
    result = view.get("result") or {} if view["status"].value in ("succeeded", "failed") else {}
    kept = result.get("message_data") if view["status"].value == "failed" else None
    company = db.get(Company, job.company_id) if job.company_id is not None else None
    documents = posted_documents(db, actor, result["batch_id"]) if result.get("committed") else {}
    return {"job": view, "spec": spec, "params": params, "errors": errors, "result": result,
            "error_rows": len({e.get("row") for e in errors}),
            "refusal": message_from_data(kept) if kept else None, "company": company, "documents": documents,
            "may_import": _may_import(job, view), "count_labels": COUNT_LABELS, "document_labels": DOCUMENT_LABELS,
            "links": _document_links(actor)}


def _document_links(actor: Actor) -> dict[str, str]:
    """Where each kind of document opens, for the roles that may open it."""
    links = {}
    if actor.role in {Role.COST_ACCOUNTANT, Role.CLERK, Role.QUALITY}:
        links["stock_documents"] = "inventory_pages.document"
    if actor.role in {Role.BUYER, Role.GROUP_BUYER, Role.PURCHASING_MANAGER}:
        links["purchase_orders"] = "purchasing_pages.order"
    if actor.role in {Role.CIO, Role.CREDIT_CONTROLLER}:
        links["invoices"] = "cio_pages.invoice"
    return links


@bp.route("/imports/jobs/<int:job_id>")
@transaction
def job(db: Session, actor: Actor, job_id: int) -> str:
    """A check or an import: its progress, then the rows refused, or what will be (was) posted."""
    return render_template("golive/job.html", **_job_context(db, actor, _import_job(db, actor, job_id)))


@bp.route("/imports/jobs/<int:job_id>/progress")
@transaction
def job_progress(db: Session, actor: Actor, job_id: int) -> str:
    """The job part of the page (polled by htmx until the job has finished)."""
    return render_template("golive/_job.html", **_job_context(db, actor, _import_job(db, actor, job_id)))


@bp.route("/imports/jobs/<int:job_id>/import", methods=["POST"])
@transaction
def confirm(db: Session, actor: Actor, job_id: int) -> Any:
    """Import the file a dry run found without error: all its rows, or none if any is refused now."""
    checked = _import_job(db, actor, job_id)
    view = job_view(checked)
    if not _may_import(checked, view):
        raise ValidationFailed(Message("only a checked file without errors can be imported; check the file again"))
    params = {k: v for k, v in (checked.params or {}).items() if k in ("path", "file_name", "go_live_date")}
    job = _queue(db, actor, KINDS[checked.params["kind"]], checked.company_id, params, dry_run=False)
    return redirect(url_for("golive_pages.job", job_id=job.id))
