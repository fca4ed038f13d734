"""The import framework: columns, row errors, the dry run and the all-or-nothing commit.

An import kind (``erp.golive.kinds``) says which columns its file has, which API schema
checks their values, and how a chunk of checked rows is validated against the database
and written. The framework does the rest, the same way for every kind:

1. read the file row by row (``erp.golive.files``), map its headers to columns (Chinese,
   English or the template's "中文 / English" header), turn cells into typed values;
2. check every row's fields with the API's own marshmallow schema (one rule in one place);
3. hand the rows to the kind in chunks: it checks references and business rules with
   set-based queries and the module's services, and writes what passed;
4. a dry run, and a commit with any row error, roll the whole transaction back: nothing is
   written. A commit without errors records the batch (content checksum, what it wrote)
   and commits once.

Row errors carry the spreadsheet row number (the header is row 1 when it is the first
line), the column, the value and the rule (``erp.golive.messages``).
"""

from __future__ import annotations

import abc
import copy
import datetime as dt
import hashlib
import re
from contextlib import nullcontext
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import Enum
from pathlib import Path
from typing import Any

import marshmallow as ma
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from erp.audit import services as audit
from erp.db import utcnow
from erp.auth.roles import Actor, Role
from erp.messages import N_, FilledMessage, Message, Term, plain_value
from erp.narration import REASON_LENGTH, narrate
from erp.errors import Conflict, DomainError, NotFound
from erp.golive.bulk import RowChecker, audit_rows, insert_rows
from erp.golive.errors import (
    CompanyRequired,
    GoLiveDateRequired,
    ImportHasErrors,
    ImportInProgress,
    ImportInUse,
    ImportNotCommitted,
)
from erp.golive.exports import REPORTS
from erp.golive.files import open_sheet
from erp.golive.messages import encode, record_word, uscc_reason
from erp.golive.words import label_of, read_word
from erp.posting.periods import opening_postings, set_go_live_date
from erp.golive.models import ImportBatch, ImportRecord, ImportStatus
from erp.masterdata.models import Company
from erp.schemas import FIELD_NULL, FIELD_REQUIRED, USCC
from erp.unique import refusal_for, unique_refusal

CHUNK_ROWS = 2000
YES = frozenset({"1", "y", "yes", "true", "t", "是", "√", "x", "是 yes", "有", "对"})
NO = frozenset({"0", "n", "no", "false", "f", "否", "否 no", "无", "×", "不"})
# How a refusal names an import's status (translated).
STATUS_WORDS = {ImportStatus.PENDING: N_("pending"), ImportStatus.COMMITTED: N_("committed"),
                ImportStatus.UNDONE: N_("undone")}
DATE_TEXT = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
WHOLE_NUMBER = re.compile(r"[+-]?\d{1,12}")


@dataclass(frozen=True)
class Column:
    """A column of an import file: its key, Chinese and English headers, the type its cells
    are read as, an example for the template and a description of what it takes."""

    key: str
    zh: str
    en: str
    example: Any
    required: bool = False
    type: str = "text"  # text, int, decimal, date, bool
    help_zh: str = ""
    help_en: str = ""
    # A coded column: its cells name a member of this enum by code or by the words users'
    # spreadsheets carry (erp.golive.words: 待检, 已审核, 原料).
    enum: type[Enum] | None = None

    @property
    def template_header(self) -> str:
        return f"{self.zh} / {self.en}"

    def names(self) -> set[str]:
        return {_normal(n) for n in (self.key, self.zh, self.en, self.template_header)}


def _normal(header: str) -> str:
    return re.sub(r"[\s_*]+", " ", str(header)).strip().casefold()


@dataclass
class Row:
    """One data row: its spreadsheet row number, the cells by column key (typed), and the
    values after the schema's checks."""

    number: int
    cells: dict[str, Any]
    data: dict[str, Any] = field(default_factory=dict)


class ImportRun:
    """What a kind works with while an import runs: the session (the import's one
    transaction), the actor, the company it is for, and where to report row errors,
    notices (matches, name differences) and what it wrote."""

    def __init__(self, session: Session, actor: Actor, kind: ImportKind, company: Company | None,
                 dry_run: bool, batch_id: int, settings: Any = None) -> None:
        self.session = session
        self.actor = actor
        # The date opening balances are taken over at (posting date of opening stock and
        # receivables); kinds that need it refuse to run without it.
        self.go_live_date: dt.date | None = None
        self.kind = kind
        self.company = company
        self.dry_run = dry_run
        self.batch_id = batch_id
        self.settings = settings
        self.errors: list[dict[str, Any]] = []  # errors of the current chunk (handed to progress)
        self.error_count = 0
        self.error_rows: set[int] = set()
        self.notices: list[dict[str, Any]] = []
        self.counts: dict[str, int] = {}
        # first row a unique value was seen in, per key kind: duplicates inside the file
        self.seen: dict[str, dict[Any, int]] = {}
        self.chunk_seen: dict[str, dict[Any, int]] = {}
        # what a kind keeps between chunks (rows of a document that spans several rows)
        self.state: dict[str, Any] = {}
        # why the audit trail records what this import writes
        self.reason = f"go-live import {batch_id}"

    def error(self, row: Row | int, column: str | None, code: str, *, value: Any = None,
              params: Mapping[str, Any] | None = None, detail: str = "", message: str | None = None) -> None:
        """Report a row error (the row will not be written): ``code`` names the rule and its
        message (erp.golive.messages), or ``message`` is the rule's own template."""
        number = row.number if isinstance(row, Row) else row
        if value is None and isinstance(row, Row) and column is not None:
            value = row.cells.get(column)
        header = None
        if column is not None:
            spec = self.kind.column(column)
            header = spec.template_header if spec is not None else column
        encoded = {k: record_word(v) if k == "record" else encode(v) for k, v in (params or {}).items()}
        self.errors.append({
            "row": number, "column": column, "header": header, "value": _text(value), "code": code,
            "message": message, "params": encoded, "detail": detail,
        })
        self.error_count += 1
        self.error_rows.add(number)

    def rule_error(self, row: Row | int, column: str | None, exc: DomainError) -> None:
        """Report a business rule a service refused the row with (its own message)."""
        self.error(row, column, "rule", detail=exc.detail, message=exc.message.template,
                   params={**exc.message.params, "slug": exc.slug})

    def first_seen(self, what: str, key: Any, row: Row, column: str, *, chunk: bool = False) -> bool:
        """Whether ``key`` is new in this file (``chunk``: in this chunk of rows, for kinds that
        find earlier chunks' keys in the database); reports a duplicate row error otherwise."""
        seen = (self.chunk_seen if chunk else self.seen).setdefault(what, {})
        if key in seen:
            self.error(row, column, "duplicate-in-file", params={"first_row": seen[key]})
            return False
        seen[key] = row.number
        return True

    def count(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n

    def notice(self, row: Row, code: str, **params: Any) -> None:
        self.notices.append({"row": row.number, "code": code, **{k: _text(v) for k, v in params.items()}})

    def record(self, entity: str, ids: Iterable[int], rows: Iterable[Row] | None = None) -> None:
        """Remember records this import created (an undo deletes them), with the rows they
        came from when there is one row per record."""
        numbers: Iterable[int | None] = (row.number for row in rows) if rows is not None else iter(lambda: None, 0)
        records = [{"batch_id": self.batch_id, "entity": entity, "record_id": i, "row_number": n}
                   for i, n in zip(ids, numbers)]
        insert_rows(self.session, ImportRecord.__table__, records)


def _text(value: Any) -> Any:
    if value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


class ImportKind(abc.ABC):
    """One kind of import. Subclasses set the class attributes and implement ``process``."""

    name: str = ""
    title_zh: str = ""
    title_en: str = ""
    columns: Sequence[Column] = ()
    # The API schema whose fields check the cells (column key -> schema field of the same name).
    schema: type[ma.Schema] | None = None
    # Needs --company / company_id: the company the file is for.
    company_scoped: bool = False
    # Roles that may run it (checked before any row is read).
    roles: tuple[Role, ...] = ()
    # Tables whose rows an undo deletes, in this order.
    undo_entities: tuple[str, ...] = ()
    # Opening balances are posted as of the go-live date (a parameter of the import).
    needs_go_live_date: bool = False
    # An export (erp.golive.exports) whose files load as they are: its columns that share a
    # key with a column here are read as that column, its other columns (names, the
    # company it came from) are read past.
    reads_export: str | None = None
    # Imports of one kind run one at a time (erp.golive.framework.serialise): group-wide, or
    # per company for kinds whose unique values are unique within the company (an old
    # invoice number) or that write nothing unique beyond it.
    serialised_per_company: bool = False
    # Kinds that write the same unique values share their turn (contracts: group-wide numbers).
    serialised_with: str | None = None

    @property
    def title(self) -> Term:
        """The kind's name in a refusal (translated: its English title is a message id)."""
        return Term(self.title_en)

    def column(self, key: str) -> Column | None:
        for column in self.columns:
            if column.key == key:
                return column
        return None

    def check_rights(self, actor: Actor, company: Company | None) -> None:
        actor.require_role(*self.roles, action=Message(N_("importing {what}"), what=self.title))
        if company is not None:
            actor.require_company(company.id)

    @abc.abstractmethod
    def process(self, run: ImportRun, rows: list[Row]) -> None:
        """Check a chunk of rows against the database and the business rules; write the rows
        that pass (call ``run.error`` for the others, ``run.record`` for what was written)."""

    def finish(self, run: ImportRun) -> None:
        """After the last chunk (kinds that group rows write here)."""

    def totals(self, run: ImportRun) -> dict[str, Any]:
        """What the import posts, summed for the reader to check before confirming (a dry
        run's result): opening stock per warehouse, receivables per customer. JSON values."""
        return {}

    def undo_check(self, session: Session, batch: ImportBatch) -> None:
        """Refuse an undo when something depends on what the import wrote (beyond foreign keys)."""

    # table -> (audit entity, the column that keys it there, the company column): what an
    # undo records in the audit trail as deleted.
    AUDITED = {
        "materials": ("material", "id", None), "suppliers": ("supplier", "id", None),
        "customers": ("customer", "id", None), "warehouses": ("warehouse", "id", "company_id"),
        "standard_prices": ("standard_price", "material_id", "company_id"),
        "contracts": ("contract", "id", "company_id"), "credit_limits": ("customer_credit", "customer_id", None),
    }

    def undo(self, session: Session, batch: ImportBatch, actor: Actor | None = None) -> dict[str, int]:
        """Delete what the import wrote (recorded in the audit trail); a record in use makes
        the database refuse (409)."""
        from erp.audit.services import plain
        from erp.db import Base

        deleted: dict[str, int] = {}
        tables = Base.metadata.tables
        for entity in self.undo_entities:
            ids = select(ImportRecord.record_id).where(ImportRecord.batch_id == batch.id,
                                                       ImportRecord.entity == entity)
            table = tables[entity]
            if actor is not None and entity in self.AUDITED:
                slug, key, company = self.AUDITED[entity]
                before = [{k: plain(v) for k, v in row._mapping.items()}
                          for row in session.execute(select(table).where(table.c.id.in_(ids)))]
                audit_rows(session, actor, entity=slug, action="delete", records=before, id_key=key,
                           company_key=company, deleted=True,
                           reason=narrate("import-undone", REASON_LENGTH, import_id=batch.id))
            result = session.execute(table.delete().where(table.c.id.in_(ids)))
            deleted[entity] = result.rowcount or 0
        return deleted


def fields_of(schema: type[ma.Schema], *names: str, **overrides: Any) -> dict[str, ma.fields.Field]:
    """Copies of an API schema's fields (a field belongs to one schema once bound)."""
    declared = schema._declared_fields  # noqa: SLF001 - marshmallow's public way to reuse fields
    return {name: copy.deepcopy(declared[name]) for name in names} | overrides


# --- cells to values ---------------------------------------------------------------------------

class CellError(Exception):
    def __init__(self, code: str) -> None:
        self.code = code


def typed_cell(value: Any, kind: str) -> Any:
    """A cell read as its column's type (the schema then checks it like a JSON value)."""
    if value is None:
        return None
    if kind == "text":
        if isinstance(value, dt.date):
            return value.isoformat()
        return str(value).strip() if not isinstance(value, Decimal) else format(value, "f")
    if kind == "int":
        if isinstance(value, int):
            return value
        text = _text(value)
        if isinstance(text, str) and WHOLE_NUMBER.fullmatch(text.strip()):
            return int(text)
        raise CellError("not-a-whole-number")
    if kind == "decimal":
        if isinstance(value, (int, Decimal)):
            return format(Decimal(value), "f")
        text = str(value).strip().replace(",", "")
        try:
            number = Decimal(text)
        except InvalidOperation as exc:
            raise CellError("not-a-number") from exc
        if not number.is_finite():
            raise CellError("not-a-number")
        return format(number, "f")
    if kind == "date":
        if isinstance(value, dt.datetime):
            return value.date().isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        match = DATE_TEXT.match(str(value).strip())
        if match is None:
            raise CellError("not-a-date")
        try:
            return dt.date(int(match[1]), int(match[2]), int(match[3])).isoformat()
        except ValueError as exc:
            raise CellError("not-a-date") from exc
    if kind == "bool":
        text = str(value).strip().casefold()
        if text in YES:
            return True
        if text in NO:
            return False
        raise CellError("not-yes-no")
    raise ValueError(f"unknown column type {kind}")


def field_error(run: ImportRun, row: Row, schema: ma.Schema, name: str, messages: Any) -> None:
    """Report a schema's refusal of one field as a row error with a stable code."""
    texts = messages if isinstance(messages, list) else [str(messages)]
    text = "; ".join(str(t) for t in texts)
    schema_field = schema.fields.get(name)
    templates = {t.message.template for t in texts if isinstance(t, FilledMessage)}
    if templates & {FIELD_REQUIRED, FIELD_NULL}:
        run.error(row, name, "required", detail=text)
    elif isinstance(schema_field, USCC):
        reason = text[text.find("(") + 1:text.rfind(")")] if "(" in text else text
        run.error(row, name, "invalid-uscc", params={"reason": uscc_reason(reason)}, detail=text)
    elif isinstance(schema_field, ma.fields.Enum):
        # The members by the words a reader knows (原料、包装材料…; the English labels), each of
        # which the column reads (erp.golive.words).
        choices = [Message(label_of(m)) for m in schema_field.enum]
        run.error(row, name, "not-one-of", params={"choices": choices}, detail=text)
    elif len(texts) == 1 and isinstance(texts[0], FilledMessage):
        # In the reader's language: every field's refusal is a catalogue template (erp.schemas:
        # a FilledMessage), its values as the English text shows them.
        message = texts[0].message
        run.error(row, name, "invalid-value", message=message.template, detail=text,
                  params={key: plain_value(value) for key, value in message.params.items() if value is not None})
    else:
        run.error(row, name, "invalid-value", detail=text)


# --- running an import -------------------------------------------------------------------------

@dataclass
class ImportOutcome:
    kind: str
    dry_run: bool
    rows: int
    error_count: int
    committed: bool
    batch_id: int | None
    checksum: str
    counts: dict[str, int]
    notices: list[dict[str, Any]]
    format: str
    encoding: str | None
    totals: dict[str, Any] = field(default_factory=dict)

    def as_result(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "dry_run": self.dry_run, "rows": self.rows, "error_count": self.error_count,
            "committed": self.committed, "batch_id": self.batch_id, "checksum": self.checksum,
            "counts": self.counts, "notices": self.notices[:1000], "notice_count": len(self.notices),
            "format": self.format, "encoding": self.encoding, "totals": self.totals,
        }


Progress = Callable[..., None]


class AlreadyImported(Conflict):
    """The same content is imported once (a checksum of the file's content): importing it
    twice would double master data or opening balances."""

    slug = "already-imported"
    title = N_("This file has already been imported")
    remedy = N_("Nothing to do: the earlier import holds the records. Undo it first to import the file again.")


unique_refusal("ux_import_batches_checksum", AlreadyImported,
               N_("this file's content was imported at the same moment by another import"))


def _export_headers(kind: ImportKind) -> tuple[dict[str, Column], set[str]]:
    """The headers of the export a kind reads: those naming one of its columns, and the rest."""
    if kind.reads_export is None:
        return {}, set()
    by_key = {column.key: column for column in kind.columns}
    read: dict[str, Column] = {}
    past: set[str] = set()
    for exported in REPORTS[kind.reads_export].columns:
        names = {_normal(exported.zh), _normal(exported.en)}
        if exported.key in by_key:
            read.update(dict.fromkeys(names, by_key[exported.key]))
        else:
            past |= names
    return read, past


def _map_header(kind: ImportKind, run: ImportRun, header: Sequence[str]) -> dict[int, Column]:
    exported, read_past = _export_headers(kind)
    by_name: dict[str, Column] = dict(exported)
    for column in kind.columns:
        for name in column.names():
            by_name[name] = column
    read_past -= by_name.keys()
    mapping: dict[int, Column] = {}
    used: set[str] = set()
    for index, text in enumerate(header):
        if not str(text).strip() or _normal(text) in read_past:
            continue
        column = by_name.get(_normal(text))
        if column is None:
            run.error(1, None, "unknown-column", params={"header": text})
            continue
        if column.key in used:
            run.error(1, column.key, "duplicate-column", params={"header": text})
            continue
        used.add(column.key)
        mapping[index] = column
    for column in kind.columns:
        if column.required and column.key not in used:
            run.error(1, column.key, "missing-column", params={"column": column.template_header})
    return mapping


def execute_import(
    session: Session, actor: Actor, kind: ImportKind, path: Path, *, file_name: str, company_id: int | None,
    dry_run: bool, progress: Progress, job_id: int | None = None, settings: Any = None,
    go_live_date: dt.date | None = None,
) -> ImportOutcome:
    """Run an import of ``path`` in ``session`` (which must not be in a transaction): a dry
    run validates every row and writes nothing; a commit writes everything or nothing.

    ``progress(rows_done, rows_total=None, errors=[...])`` is called after every chunk.
    Refuses (DomainError) files that cannot be read, a commit with row errors (``ImportHasErrors``,
    the errors reported through ``progress``), and content already imported (``AlreadyImported``).
    """
    company = None
    if kind.company_scoped:
        if company_id is None:
            raise CompanyRequired(Message("the {kind} import is for one company: name it", kind=kind.title))
        company = session.get(Company, company_id)
        if company is None:
            raise NotFound(Message("company {key} not found", key=company_id))
    kind.check_rights(actor, company)
    if kind.needs_go_live_date and go_live_date is None:
        raise GoLiveDateRequired(Message("the {kind} import posts opening balances: give the go-live date",
                                         kind=kind.title))
    if session.in_transaction():
        session.rollback()
    sheet = open_sheet(path)
    try:
        # Opening balances are posted on the go-live date, which closes the books before it
        # (erp.posting.periods): they alone are not refused as the history it closes.
        with opening_postings(session, go_live_date) if go_live_date is not None else nullcontext():
            return _execute(session, actor, kind, sheet, company, file_name=file_name, company_id=company_id,
                            dry_run=dry_run, progress=progress, job_id=job_id, settings=settings,
                            go_live_date=go_live_date)
    except IntegrityError as exc:
        # Something else wrote one of the file's unique values after the import checked it
        # (one record through the API): the rule's refusal, for the whole file (erp.unique).
        refusal = refusal_for(exc)
        if refusal is None:
            raise
        raise refusal from exc


# How long an import waits for the one of its kind running before it is refused
# (ImportInProgress): a 100,000-row file takes about a minute on a quiet server.
IMPORT_LOCK_WAIT = dt.timedelta(minutes=2)
LOCK_NOT_AVAILABLE = "55P03"


def serialise(session: Session, kind: ImportKind, company_key: int) -> None:
    """Wait until no other import of ``kind`` (for the company, for kinds serialised per
    company) is running, and keep others waiting until this transaction ends. Refuses
    ``ImportInProgress`` when the other one is still running after ``IMPORT_LOCK_WAIT``
    (the wait is bounded by ``lock_timeout`` for this one statement).

    Each import checks its unique values (codes, USCCs, old invoice numbers) against the
    database, then writes them; two imports at once would both pass the checks and the
    second would only meet the unique index. One at a time, the second reads what the first
    committed (READ COMMITTED: each statement sees what was committed before it) and
    refuses the rows with their row errors. A transaction-level advisory lock on PostgreSQL;
    SQLite has one writer at a time anyway."""
    if session.get_bind().dialect.name != "postgresql":
        return
    previous = session.scalar(select(func.current_setting("lock_timeout")))
    session.execute(select(func.set_config("lock_timeout", f"{int(IMPORT_LOCK_WAIT.total_seconds() * 1000)}ms",
                                           True)))
    try:
        session.execute(select(func.pg_advisory_xact_lock(*import_lock_key(kind, company_key))))
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        raise ImportInProgress(Message("another {kind} import is running; it is still running after {seconds} "
                                       "seconds of waiting", kind=kind.title,
                                       seconds=int(IMPORT_LOCK_WAIT.total_seconds()))) from exc
    session.execute(select(func.set_config("lock_timeout", previous, True)))


def import_lock_key(kind: ImportKind, company_key: int) -> tuple[int, int]:
    """The advisory lock (two keys) imports of ``kind`` for the company take in turn."""
    kind_key = int.from_bytes(hashlib.sha256(f"import:{kind.serialised_with or kind.name}".encode()).digest()[:4],
                              "big", signed=True)
    return kind_key, company_key if kind.serialised_per_company else 0


def _execute(
    session: Session, actor: Actor, kind: ImportKind, sheet: Any, company: Company | None, *, file_name: str,
    company_id: int | None,
    dry_run: bool, progress: Progress, job_id: int | None, settings: Any, go_live_date: dt.date | None,
) -> ImportOutcome:
    digest = hashlib.sha256(kind.name.encode())
    with session.begin():
        serialise(session, kind, company_id or 0)
        batch = ImportBatch(kind=kind.name, company_id=company_id if kind.company_scoped else None,
                            company_key=(company_id or 0) if kind.company_scoped else 0, file_name=file_name[:255],
                            created_by=actor.user_id, job_id=job_id, status=ImportStatus.PENDING)
        session.add(batch)
        session.flush()
        run = ImportRun(session, actor, kind, session.get(Company, company_id) if company else None, dry_run,
                        batch.id, settings)
        run.go_live_date = go_live_date
        mapping = _map_header(kind, run, sheet.header)
        rows_done = 0
        if run.error_count:
            progress(0, errors=_take(run))
        else:
            schema = kind.schema() if kind.schema is not None else None
            schema_fields = set(schema.load_fields) if schema is not None else set()
            checker = RowChecker(schema) if schema is not None else None
            chunk: list[Row] = []
            # The same cell text is typed once per column (bounded: cleared when full).
            plan = [(index, column.key, column.type, {}, column.enum) for index, column in mapping.items()]
            required = [column.key for column in mapping.values() if column.required]
            to_check = [key for _, key, _, _, _ in plan if key in schema_fields]
            keys = [c.key for c in kind.columns]
            for number, cells in sheet.rows:
                row = Row(number, {})
                row_cells = row.cells
                width = len(cells)
                for index, key, cell_type, typed, enum in plan:
                    value = cells[index] if index < width else None
                    if value is None:
                        row_cells[key] = None
                        continue
                    cached = typed.get(value, typed)
                    if cached is typed:
                        try:
                            cached = typed_cell(value, cell_type)
                            if enum is not None:
                                cached = read_word(enum, cached)
                        except CellError as exc:
                            run.error(row, key, exc.code, value=value)
                            continue
                        if len(typed) >= 4096:
                            typed.clear()
                        typed[value] = cached
                    row_cells[key] = cached
                # The checksum is over the typed values in the template's column order: the same
                # table saved as XLSX or CSV, or with its columns moved, is the same content.
                digest.update("\x1f".join(["" if v is None else str(v) for v in map(row_cells.get, keys)]).encode()
                              + b"\x1e")
                failed = number in run.error_rows
                for key in required:
                    if row_cells.get(key) is None and not failed:
                        run.error(row, key, "required")
                        failed = True
                if not failed and checker is not None and schema is not None:
                    payload = {k: row_cells[k] for k in to_check if row_cells.get(k) is not None}
                    try:
                        row.data = checker.load(payload)
                    except ma.ValidationError as exc:
                        messages = exc.messages if isinstance(exc.messages, dict) else {"_": exc.messages}
                        for name, text in messages.items():
                            field_error(run, row, schema, name, text)
                elif schema is None:
                    row.data = {k: v for k, v in row_cells.items() if v is not None}
                chunk.append(row)
                rows_done += 1
                if len(chunk) >= CHUNK_ROWS:
                    _process(kind, run, chunk)
                    progress(rows_done, errors=_take(run))
                    chunk = []
            if chunk:
                _process(kind, run, chunk)
            kind.finish(run)
            if rows_done == 0:
                run.error(1, None, "empty-file")
            progress(rows_done, rows_total=rows_done, errors=_take(run), force=True)
        checksum = digest.hexdigest()
        outcome = ImportOutcome(kind.name, dry_run, rows_done, run.error_count, False, None, checksum,
                                run.counts, run.notices, sheet.format, sheet.encoding,
                                kind.totals(run) if not run.error_count else {})
        previous = session.scalar(select(ImportBatch.id).where(
            ImportBatch.kind == kind.name, ImportBatch.company_key == batch.company_key,
            ImportBatch.checksum == checksum, ImportBatch.status == ImportStatus.COMMITTED))
        if previous is not None:
            session.rollback()
            raise AlreadyImported(Message("this file's content was already imported (import {batch}); undo that "
                                          "import first to load it again", batch=previous), batch_id=previous)
        if dry_run or run.error_count:
            session.rollback()
            if not dry_run:
                raise ImportHasErrors(Message("{errors} error(s) in {rows} row(s); nothing was imported",
                                        errors=run.error_count, rows=len(run.error_rows)),
                                error_count=run.error_count)
            return outcome
        if kind.needs_go_live_date and company is not None and go_live_date is not None:
            set_go_live_date(session, company.id, go_live_date)  # nothing is posted before it from now on
        session.execute(update(ImportBatch).where(ImportBatch.id == batch.id).values(
            checksum=checksum, rows=rows_done, status=ImportStatus.COMMITTED,
            summary={"counts": run.counts, "notices": len(run.notices), "format": sheet.format}))
        # The import's own audit row: who loaded which file when. Master records it created
        # in bulk have no row of their own; they carry the import and their file row, and
        # their history shows this row as their creation (erp.audit.services.imported_creation).
        audit.record_change(session, actor, entity=audit.IMPORT, entity_id=batch.id, action=audit.IMPORTED,
                            after={"kind": kind.name, "file_name": file_name[:255], "checksum": checksum,
                                   "rows": rows_done, "counts": run.counts},
                            reason=narrate("go-live-import", REASON_LENGTH, import_id=batch.id),
                            company_id=batch.company_id)
        session.flush()  # the same content committed meanwhile: ux_import_batches_checksum (AlreadyImported)
    outcome.committed = True
    outcome.batch_id = batch.id
    return outcome


def _process(kind: ImportKind, run: ImportRun, chunk: list[Row]) -> None:
    run.chunk_seen.clear()
    valid = [row for row in chunk if row.number not in run.error_rows]
    if valid:
        kind.process(run, valid)


def _take(run: ImportRun) -> list[dict[str, Any]]:
    errors, run.errors = run.errors, []
    return errors


def undo_import(session: Session, actor: Actor, kind: ImportKind, batch_id: int) -> ImportBatch:
    """Undo a committed import while nothing depends on what it wrote: delete its records
    and mark it undone (its file may then be loaded again). Refused (409) when a record is
    in use; the caller's transaction is left as it was."""
    batch = session.scalars(select(ImportBatch).where(ImportBatch.id == batch_id).with_for_update()
                            .execution_options(populate_existing=True)).one_or_none()
    if batch is None or batch.kind != kind.name:
        raise NotFound(Message("import {key} not found", key=batch_id))
    company = session.get(Company, batch.company_id) if batch.company_id is not None else None
    kind.check_rights(actor, company)
    if batch.status != ImportStatus.COMMITTED:
        raise ImportNotCommitted(Message("import {key} is {status}", key=batch_id, status=Term(STATUS_WORDS[batch.status])))
    kind.undo_check(session, batch)
    try:
        with session.begin_nested():
            deleted = kind.undo(session, batch, actor)
    except IntegrityError as exc:
        raise ImportInUse(Message("records of import {key} are already used by other records; it cannot be undone",
                                  key=batch_id)) from exc
    batch.status = ImportStatus.UNDONE
    batch.undone_by = actor.user_id
    batch.undone_at = utcnow()
    batch.summary = {**(batch.summary or {}), "undone": deleted}
    audit.record_change(session, actor, entity=audit.IMPORT, entity_id=batch.id, action=audit.UNDONE,
                        before={"status": ImportStatus.COMMITTED.value}, after={"status": ImportStatus.UNDONE.value,
                                                                                "deleted": deleted},
                        reason=narrate("import-undone", REASON_LENGTH, import_id=batch.id), company_id=batch.company_id)
    session.flush()
    return batch
