"""HTTP endpoints of go-live imports: ``/api/v1/imports``.

- ``GET /imports``: the import kinds, their columns and template links;
- ``GET /imports/{kind}/template?format=xlsx|csv``: the template file;
- ``POST /imports/{kind}?dry_run=&company_id=`` (multipart: ``file``): queues the
  import as a job and answers 202 with it; poll ``GET /jobs/{id}``;
- ``GET /imports/batches``, ``POST /imports/batches/{id}/undo``: committed imports, and undo.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from flask import Response, current_app, request, url_for
from flask_smorest.pagination import PaginationParameters
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from erp.db import page
from erp.messages import Message
from erp.credit.errors import ReceivableTakenOver
from erp.errors import ConcurrentUpdate, Conflict, NotFound
from erp.masterdata.errors import DuplicateCode, DuplicateUscc
from erp.purchasing.errors import DuplicateNumber
from erp.golive import messages
from erp.golive import schemas as s
from erp.golive.files import UnreadableFile
from erp.golive.framework import AlreadyImported, undo_import
from erp.golive.jobs import JOB_PREFIX, job_kind_name
from erp.golive.kinds import KINDS
from erp.golive.models import ImportBatch
from erp.golive.templates import csv_template, xlsx_template
from erp.jobs.errors import JobUserInactive, UnknownJobKind
from erp.jobs.api import ERROR_RENDERERS, started
from erp.jobs.schemas import JobOut
from erp.jobs.services import create_job
from erp.masterdata.models import Company
from erp.auth.roles import Actor
from erp.web import Blueprint, accepts_upload, paged, transaction
from erp.auth.errors import CompanyOutOfScope, RoleNotAllowed
from erp.golive.exports import attachment
from erp.golive.errors import (
    CompanyRequired,
    GoLiveDateRequired,
    ImportHasErrors,
    ImportInProgress,
    ImportInUse,
    ImportNotCommitted,
    ImportPosted,
)

blp = Blueprint("imports", __name__, url_prefix="/api/v1", description="Go-live imports from XLSX and CSV")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _render_errors(kind: str, errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Row errors with ``reason`` in the reader's language (the pages' choice, else Accept-Language)."""
    from erp.ui.i18n import LANGUAGE_COOKIE

    lang = messages.language(request.accept_languages, request.cookies.get(LANGUAGE_COOKIE))
    return messages.render_all(errors, lang)


ERROR_RENDERERS[JOB_PREFIX] = _render_errors


def _kind(kind: str) -> Any:
    if kind not in KINDS:
        raise NotFound(Message("no import of kind {kind}; see GET /api/v1/imports", kind=kind))
    return KINDS[kind]


@blp.route("/imports", methods=["GET"])
@blp.response(200, s.ImportKindOut(many=True))
def get_kinds() -> list[dict[str, Any]]:
    """The import kinds, in the order a new subsidiary loads them, with their columns."""
    return [{"name": k.name, "title_zh": k.title_zh, "title_en": k.title_en, "company_scoped": k.company_scoped,
             "columns": k.columns, "template_url": url_for("imports.get_template", kind=k.name)}
            for k in KINDS.values()]


@blp.route("/imports/<kind>/template", methods=["GET"])
@blp.arguments(s.ImportTemplateQuery, location="query")
@blp.response(200, description="the template file")
@blp.refuses(NotFound)
def get_template(query: dict[str, Any], kind: str) -> Response:
    """The template of an import: Chinese and English headers, an example row, and (XLSX) a sheet
    describing each column."""
    spec = _kind(kind)
    if query["format"] == "csv":
        body, mimetype = csv_template(spec), "text/csv; charset=utf-8"
    else:
        body, mimetype = xlsx_template(spec), XLSX
    # 导入模板_物料.xlsx, with heyi-import-materials.xlsx for clients that read only the ASCII name
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": attachment(
        f"导入模板_{spec.title_zh}.{query['format']}", f"heyi-import-{kind}.{query['format']}")})


def upload_dir() -> Path:
    path = Path(current_app.instance_path) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


@blp.route("/imports/<kind>", methods=["POST"])
@accepts_upload  # spreadsheets: ERP_MAX_UPLOAD_BYTES, not the 1 MiB of other requests
@blp.arguments(s.ImportIn, location="query")
@blp.arguments(s.ImportUploadIn, location="files", content_type="multipart/form-data")
@blp.response(202, JobOut)
@blp.refuses(CompanyOutOfScope, RoleNotAllowed, NotFound, in_job=(
    RoleNotAllowed, CompanyOutOfScope, NotFound, CompanyRequired, GoLiveDateRequired, UnreadableFile, ImportHasErrors,
    AlreadyImported, ImportInProgress, JobUserInactive, UnknownJobKind,
    # a unique value another user wrote while the import ran (erp.unique)
    DuplicateCode, DuplicateUscc, DuplicateNumber, ReceivableTakenOver, ConcurrentUpdate, Conflict))
# Not retried: the upload's stream is read once.
@transaction(retry=False)
def post_import(session: Session, actor: Actor, form: dict[str, Any], files: dict[str, Any], kind: str) -> Any:
    """Queue an import of the uploaded file as a job: a dry run validates every row and writes
    nothing; otherwise it writes all rows or, if any row is wrong, none. Poll the job."""
    spec = _kind(kind)
    company_id = form["company_id"] if spec.company_scoped else None
    company = session.get(Company, company_id) if company_id is not None else None
    if company_id is not None and company is None:
        raise NotFound(Message("company {key} not found", key=company_id))
    spec.check_rights(actor, company)
    upload = files["file"]
    suffix = Path(upload.filename or "").suffix.lower()[:8]
    path = upload_dir() / f"{uuid.uuid4().hex}{suffix}"
    upload.save(path)
    job = create_job(session, actor, kind=job_kind_name(kind), company_id=company_id, params={
        "kind": kind, "path": str(path), "file_name": upload.filename or path.name,
        "dry_run": form["dry_run"], "delete_after": True,
        "go_live_date": form["go_live_date"].isoformat() if form.get("go_live_date") else None})
    return started(job, _render_errors)


def _list_batches(session: Any, actor: Any, *, offset: int, limit: int, kind: str | None = None,
                  company_id: int | None = None) -> tuple[list[Any], int]:
    query = select(ImportBatch)
    if not actor.group_wide:
        query = query.where(or_(ImportBatch.created_by == actor.user_id, actor.company_scope(ImportBatch.company_id)))
    if kind is not None:
        query = query.where(ImportBatch.kind == kind)
    if company_id is not None:
        query = query.where(ImportBatch.company_id == company_id)
    return page(session, query.order_by(ImportBatch.id.desc()), offset=offset, limit=limit, entities=True)


@blp.route("/imports/batches", methods=["GET"])
@blp.arguments(s.ImportBatchQuery, location="query")
@blp.response(200, s.ImportBatchOut(many=True))
@blp.paginate()
def get_batches(query: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Any]:
    """Committed (and undone) imports, newest first."""
    return paged(pagination_parameters, _list_batches, **query)


@blp.route("/imports/batches/<int:batch_id>/undo", methods=["POST"])
@blp.response(200, s.ImportBatchOut)
@blp.refuses(CompanyOutOfScope, RoleNotAllowed, NotFound, ImportInUse, ImportNotCommitted, ImportPosted)
@transaction
def post_undo(session: Session, actor: Actor, batch_id: int) -> Any:
    """Undo an import while nothing depends on what it wrote (409 otherwise); its file may then
    be loaded again."""
    batch = session.get(ImportBatch, batch_id)
    if batch is None:
        raise NotFound(Message("import {key} not found", key=batch_id))
    return undo_import(session, actor, _kind(batch.kind), batch_id)
