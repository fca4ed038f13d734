"""The import kinds: master data (materials, suppliers, customers, warehouses), standard
prices and approved credit limits.

Each kind checks its cells with the API's own schema fields and its rows with the owning
module's rules: the master-data catalog (rights, unique fields, references, consistency
checks) and the costing and credit services. Lookups are set-based, one query per chunk
of rows, and new master records are written with one multi-row INSERT per chunk.
"""

from __future__ import annotations

from types import SimpleNamespace
from collections import defaultdict
from decimal import Decimal
from typing import Any

import marshmallow as ma
from sqlalchemy import case, delete, func, select, update
from sqlalchemy.orm import Session

from erp.auth.roles import Role
from erp.costing import schemas as costing_schemas
from erp.costing.models import StandardPrice
from erp.costing.standards import PriceChange, set_standard_prices
from erp.credit import schemas as credit_schemas
from erp.credit.limits import set_credit_limit
from erp.credit.models import CreditLimit, CustomerExposure
from erp.messages import N_, Message, Named
from erp.narration import REASON_LENGTH, narrate
from erp.errors import DomainError, ValidationFailed
from erp.golive.bulk import any_of, audit_rows, insert_rows
from erp.golive.documents import CompanyContractsImport, GroupContractsImport, OpenOrdersImport
from erp.golive.errors import ImportInUse
from erp.golive.framework import Column, ImportKind, ImportRun, Row, fields_of
from erp.golive.opening import OpeningReceivablesImport, OpeningStockImport
from erp.golive.models import ImportBatch, ImportRecord
from erp.inventory.models import StockMovement
from erp.masterdata import schemas as md
from erp.masterdata import services as catalogs
from erp.masterdata.models import Customer, Material, MaterialType, ProcurementScope, UnitOfMeasure
from erp.masterdata.services import Catalog
from erp.schemas import USCC, Code, Schema


# --- master records through the catalog ----------------------------------------------------------

class CatalogKind(ImportKind):
    """New records of a master-data catalog: unique fields checked against the file and the
    master, references resolved from codes, the catalog's consistency rule applied."""

    catalog: Catalog
    # column key -> (model it names by code, field of the record that takes its id)
    code_references: dict[str, tuple[type[Any], str]] = {}

    @property
    def roles(self) -> tuple[Role, ...]:  # type: ignore[override]
        return tuple(sorted(self.catalog.writers))

    def values(self, run: ImportRun, row: Row) -> dict[str, Any]:
        return dict(row.data)

    def process(self, run: ImportRun, rows: list[Row]) -> None:
        rows = self.resolve_references(run, rows)
        rows = self.check_unique(run, rows)
        to_insert: list[dict[str, Any]] = []
        kept: list[Row] = []
        for row in rows:
            values = self.values(run, row)
            if self.catalog.check is not None:
                try:
                    # The rule reads the record's fields; a plain object spares the ORM's
                    # instrumentation for every row.
                    self.catalog.check(SimpleNamespace(**values))
                except ValidationFailed as exc:
                    pointer = exc.errors[0]["pointer"].lstrip("/") if exc.errors else None
                    run.rule_error(row, pointer, exc)
                    continue
            to_insert.append(values)
            kept.append(row)
        self.write(run, to_insert, kept)

    def write(self, run: ImportRun, values: list[dict[str, Any]], rows: list[Row]) -> None:
        """Write the new records in one COPY (a multi-row INSERT on SQLite), each carrying the
        import and its file row: that is what the undo deletes and what the audit trail
        shows as the record's creation, beside the import's own audit row
        (erp.masterdata.models.CreatedByImport). Nothing else is written per record."""
        if not values:
            return
        for record, row in zip(values, rows):
            record["import_batch_id"] = run.batch_id
            record["import_row"] = row.number
        run.count("created", len(values))
        insert_rows(run.session, self.catalog.model.__table__, values)

    def undo(self, session: Session, batch: ImportBatch, actor: Any = None) -> dict[str, int]:
        """Delete the records that carry the import (their deletion recorded in the audit
        trail, every field before); a record in use makes the database refuse (409)."""
        from erp.audit.services import plain

        table = self.catalog.model.__table__
        created = table.c.import_batch_id == batch.id
        if actor is not None:
            slug, key, company = self.AUDITED[table.name]
            before = [{k: plain(v) for k, v in row.items()}
                      for row in session.execute(select(table).where(created)).mappings()]
            audit_rows(session, actor, entity=slug, action="delete", records=before, id_key=key,
                       company_key=company, deleted=True,
                       reason=narrate("import-undone", REASON_LENGTH, import_id=batch.id))
        return {table.name: session.execute(table.delete().where(created)).rowcount or 0}

    def resolve_references(self, run: ImportRun, rows: list[Row]) -> list[Row]:
        for column, (model, target) in self.code_references.items():
            codes = sorted({row.cells[column] for row in rows if row.cells.get(column) is not None})
            found = {code: (id_, active) for code, id_, active in run.session.execute(
                select(model.code, model.id, model.active).where(any_of(run.session, model.code, codes)))}
            label = model.__tablename__.rstrip("s") if model is not UnitOfMeasure else "unit"
            for row in rows:
                code = row.cells.get(column)
                if code is None:
                    continue
                if code not in found:
                    run.error(row, column, "unknown-reference", params={"record": label})
                elif not found[code][1]:
                    run.error(row, column, "inactive-reference", params={"record": label})
                else:
                    row.data[target] = found[code][0]
        return [row for row in rows if row.number not in run.error_rows]

    def check_unique(self, run: ImportRun, rows: list[Row]) -> list[Row]:
        for name in self.catalog.unique:
            rows = [row for row in rows if row.data.get(name) is None
                    or run.first_seen(name, row.data[name], row, name, chunk=True)]
            taken = taken_values(run, self.catalog.model, name, [row.data.get(name) for row in rows])
            for row in rows:
                value = row.data.get(name)
                if value in taken:
                    label, first_row = taken[value]
                    if first_row is not None:  # an earlier chunk of this very file wrote it
                        run.error(row, name, "duplicate-in-file", params={"first_row": first_row})
                    else:
                        run.error(row, name, "duplicate-code", params={"record": self.catalog.label, "name": label})
            rows = [row for row in rows if row.number not in run.error_rows]
        return rows


def taken_values(run: ImportRun, model: Any, name: str, values: list[Any]) -> dict[Any, tuple[str, int | None]]:
    """Which of ``values`` of unique field ``name`` the master already holds: value ->
    (the holder's name, the row of this file that wrote it, if this import did)."""
    wanted = sorted({v for v in values if v is not None})
    if not wanted:
        return {}
    query = (select(getattr(model, name), model.name_zh, model.import_batch_id, model.import_row)
             .where(any_of(run.session, getattr(model, name), wanted)))
    return {value: (label, row if batch == run.batch_id else None)
            for value, label, batch, row in run.session.execute(query)}


MATERIAL_COLUMNS = (
    Column("code", "物料编码", "Material code", "API-PARA", True, help_zh="集团唯一，大写字母、数字、. _ -，最多32位",
           help_en="unique in the group: A-Z, 0-9, '.', '_', '-'; up to 32"),
    Column("name_zh", "中文名称", "Chinese name", "对乙酰氨基酚", True),
    Column("name_en", "英文名称", "English name", "Paracetamol", True),
    Column("material_type", "物料类型", "Material type", "原料", True,
           help_zh="原料 / 包装材料 / 中间体 / 产成品 / 外购商品（或 raw / packaging / intermediate / finished / trade）",
           help_en="raw, packaging, intermediate, finished or trade (or 原料 / 包装材料 / 中间体 / 产成品 / 外购商品)",
           enum=MaterialType),
    Column("unit_code", "计量单位", "Unit", "KG", True, help_zh="已有计量单位的编码", help_en="code of an existing unit"),
    Column("procurement_scope", "采购范围", "Procurement scope", "集中采购", True,
           help_zh="集中采购（集团）/ 自主采购（公司），或 central / local",
           help_en="central (group purchasing) or local (each company); or 集中采购 / 自主采购", enum=ProcurementScope),
    Column("storage_temp_min", "储存最低温度℃", "Storage min °C", "2", type="decimal", help_zh="可空", help_en="optional"),
    Column("storage_temp_max", "储存最高温度℃", "Storage max °C", "25", type="decimal", help_zh="可空", help_en="optional"),
    Column("storage_max_humidity", "储存最大湿度%", "Storage max humidity %", "65", type="decimal",
           help_zh="可空", help_en="optional"),
    Column("shelf_life_days", "有效期天数", "Shelf life days", 1095, type="int", help_zh="可空", help_en="optional"),
    Column("min_remaining_shelf_life_days", "收货最短剩余效期天数", "Min remaining shelf life days", 180, type="int",
           help_zh="可空：用系统默认值", help_en="optional: the system default applies"),
    Column("batch_managed", "批次管理", "Batch managed", "是", type="bool", help_zh="是/否，默认是", help_en="yes/no, default yes"),
    Column("inspection_required", "需要来料检验", "Inspection required", "是", type="bool",
           help_zh="是/否，默认否", help_en="yes/no, default no"),
    Column("over_receipt_tolerance_pct", "超收容差%", "Over-receipt tolerance %", "2", type="decimal",
           help_zh="0-100，默认0", help_en="0-100, default 0"),
)


class MaterialsImport(CatalogKind):
    name = "materials"
    title_zh, title_en = "物料", N_("materials")
    catalog = catalogs.MATERIALS
    columns = MATERIAL_COLUMNS
    code_references = {"unit_code": (UnitOfMeasure, "unit_id")}

    @staticmethod
    def schema() -> ma.Schema:  # type: ignore[override]
        return md.MaterialSchema(exclude=("unit_id",))

    def values(self, run: ImportRun, row: Row) -> dict[str, Any]:
        return {**row.data, "active": True}


PARTNER_COLUMNS = (
    Column("code", "编码", "Code", "S1001", True, help_zh="集团唯一", help_en="unique in the group"),
    Column("uscc", "统一社会信用代码", "USCC", "91330100000000001C", True,
           help_zh="18位，含校验位（GB 32100-2015）", help_en="18 characters with the check character (GB 32100-2015)"),
    Column("name_zh", "中文名称", "Chinese name", "华康药业有限公司", True),
    Column("name_en", "英文名称", "English name", "Huakang Pharma Co., Ltd.", True),
    Column("blocked", "冻结", "Blocked", "否", type="bool", help_zh="是/否，默认否", help_en="yes/no, default no"),
)


class PartnersImport(CatalogKind):
    """Suppliers or customers, matched to the group master by unified social credit code: a
    code already in the master is matched (differences in name or code reported), never
    created twice."""

    def check_unique(self, run: ImportRun, rows: list[Row]) -> list[Row]:
        model: Any = self.catalog.model
        rows = [row for row in rows if run.first_seen("uscc", row.data["uscc"], row, "uscc", chunk=True)]
        rows = [row for row in rows if run.first_seen("code", row.data["code"], row, "code", chunk=True)]
        # A row of this very file wrote it (an earlier chunk): the file row, else None.
        written = case((model.import_batch_id == run.batch_id, model.import_row)).label("row_number")
        known = {r.uscc: r for r in run.session.execute(
            select(model.uscc, model.code, model.name_zh, model.name_en, written)
            .where(any_of(run.session, model.uscc, sorted({row.data["uscc"] for row in rows}))))}
        new: list[Row] = []
        for row in rows:
            existing = known.get(row.data["uscc"])
            if existing is None:
                new.append(row)
                continue
            if existing.row_number is not None:  # an earlier chunk of this file created it
                run.error(row, "uscc", "duplicate-in-file", params={"first_row": existing.row_number})
                continue
            run.count("matched")
            if existing.code != row.data["code"]:
                run.notice(row, "code-differs", uscc=existing.uscc, master_code=existing.code,
                           file_code=row.data["code"])
            if (existing.name_zh, existing.name_en) != (row.data["name_zh"], row.data["name_en"]):
                run.notice(row, "name-differs", uscc=existing.uscc, master_code=existing.code,
                           master_name_zh=existing.name_zh, file_name_zh=row.data["name_zh"],
                           master_name_en=existing.name_en, file_name_en=row.data["name_en"])
        taken = {code: (uscc, first_row) for code, uscc, first_row in run.session.execute(
            select(model.code, model.uscc, written)
            .where(any_of(run.session, model.code, sorted({row.data["code"] for row in new}))))}
        for row in new:
            if row.data["code"] not in taken:
                continue
            uscc, first_row = taken[row.data["code"]]
            if first_row is not None:
                run.error(row, "code", "duplicate-in-file", params={"first_row": first_row})
            else:
                run.error(row, "code", "code-uscc-mismatch", params={"record": self.catalog.label, "uscc": uscc})
        return [row for row in new if row.number not in run.error_rows]

    def values(self, run: ImportRun, row: Row) -> dict[str, Any]:
        return {**row.data, "active": True}


class SuppliersImport(PartnersImport):
    name = "suppliers"
    title_zh, title_en = "供应商", N_("suppliers")
    catalog = catalogs.SUPPLIERS
    columns = PARTNER_COLUMNS
    schema = md.SupplierSchema


class CustomersImport(PartnersImport):
    name = "customers"
    title_zh, title_en = "客户", N_("customers")
    catalog = catalogs.CUSTOMERS
    columns = (*PARTNER_COLUMNS[:4],
               Column("payment_terms_days", "账期天数", "Payment terms days", 60, type="int",
                      help_zh="0-365，默认30", help_en="0-365, default 30"),
               PARTNER_COLUMNS[4])
    schema = md.CustomerSchema


class WarehousesImport(CatalogKind):
    name = "warehouses"
    title_zh, title_en = "仓库", N_("warehouses")
    catalog = catalogs.WAREHOUSES
    company_scoped = True
    columns = (
        Column("code", "仓库编码", "Warehouse code", "CA-COLD", True, help_zh="集团唯一", help_en="unique in the group"),
        Column("name_zh", "中文名称", "Chinese name", "冷库", True),
        Column("name_en", "英文名称", "English name", "Cold store", True),
        Column("temp_min", "最低温度℃", "Min temperature °C", "2", True, type="decimal"),
        Column("temp_max", "最高温度℃", "Max temperature °C", "8", True, type="decimal"),
        Column("max_humidity", "最大相对湿度%", "Max humidity %", "60", True, type="decimal"),
    )

    @staticmethod
    def schema() -> ma.Schema:  # type: ignore[override]
        return md.WarehouseSchema(exclude=("company_id",))

    def values(self, run: ImportRun, row: Row) -> dict[str, Any]:
        assert run.company is not None
        return {**row.data, "company_id": run.company.id, "active": True}


# --- standard prices ----------------------------------------------------------------------------

class StandardPricesImport(ImportKind):
    """A company's standard prices from a period on, set through the costing service."""

    name = "standard_prices"
    serialised_per_company = True
    title_zh, title_en = "标准价格", N_("standard prices")
    company_scoped = True
    roles = (Role.COST_ACCOUNTANT,)
    undo_entities = ("standard_prices",)
    columns = (
        Column("material_code", "物料编码", "Material code", "API-PARA", True),
        Column("period", "生效期间", "Period", "2026-12", True, help_zh="YYYY-MM，此后各期沿用，直到设置新价格",
               help_en="YYYY-MM: in force from this period until a later one is set"),
        Column("price", "标准单价", "Standard price", "12.500000", True, type="decimal",
               help_zh="每计量单位人民币，最多6位小数", help_en="CNY per unit, up to 6 decimals"),
    )

    @staticmethod
    def schema() -> ma.Schema:  # type: ignore[override]
        return Schema.from_dict(fields_of(costing_schemas.StandardPricesIn, "period")
                                | fields_of(costing_schemas.PriceIn, "price")
                                | {"material_code": Code(required=True)})()

    def process(self, run: ImportRun, rows: list[Row]) -> None:
        assert run.company is not None
        company_id = run.company.id
        materials = dict(run.session.execute(select(Material.code, Material.id).where(
            Material.code.in_(sorted({r.data["material_code"] for r in rows})))).all())
        for row in rows:
            if row.data["material_code"] not in materials:
                run.error(row, "material_code", "unknown-reference", params={"record": "material"})
            else:
                row.data["material_id"] = materials[row.data["material_code"]]
        rows = [r for r in rows if r.number not in run.error_rows
                and run.first_seen("price", (r.data["material_id"], r.data["period"]), r, "material_code")]
        existing = set(tuple(r) for r in run.session.execute(select(StandardPrice.material_id, StandardPrice.period).where(
            StandardPrice.company_id == company_id,
            StandardPrice.material_id.in_(sorted({r.data["material_id"] for r in rows})))).all())
        by_period: dict[str, list[Row]] = defaultdict(list)
        for row in rows:
            if (row.data["material_id"], row.data["period"]) in existing:
                run.error(row, "period", "already-set", params={"what": f"{row.data['material_code']} "
                                                                        f"{row.data['period']}"})
            else:
                by_period[row.data["period"]].append(row)
        for period, period_rows in sorted(by_period.items()):
            try:
                with run.session.begin_nested():
                    set_standard_prices(run.session, run.actor, company_id=company_id, period=period, prices=[
                        PriceChange(r.data["material_id"], Decimal(r.data["price"])) for r in period_rows])
            except DomainError as exc:
                for row in period_rows:
                    run.rule_error(row, "price", exc)
                continue
            ids = run.session.scalars(select(StandardPrice.id).where(
                StandardPrice.company_id == company_id, StandardPrice.period == period,
                StandardPrice.material_id.in_([r.data["material_id"] for r in period_rows])))
            run.record("standard_prices", ids)
            run.count("created", len(period_rows))

    def undo_check(self, session: Session, batch: ImportBatch) -> None:
        # A price that valued a posting cannot go: the posting would lose its valuation.
        used = session.execute(
            select(StockMovement.material_id, StockMovement.period)
            .join(StandardPrice, (StandardPrice.company_id == StockMovement.company_id)
                  & (StandardPrice.material_id == StockMovement.material_id)
                  & (StockMovement.period >= StandardPrice.period))
            .join(ImportRecord, (ImportRecord.record_id == StandardPrice.id) & (ImportRecord.batch_id == batch.id)
                  & (ImportRecord.entity == "standard_prices"))
            .limit(1)).first()
        if used is not None:
            raise ImportInUse(Message("a standard price of import {batch} already valued postings (period {period}); "
                                      "it cannot be undone", batch=batch.id, period=used.period))


# --- approved credit limits ---------------------------------------------------------------------

class CreditLimitsImport(ImportKind):
    """Approved credit limits per customer (named by USCC or code), each a new limit version."""

    name = "credit_limits"
    title_zh, title_en = "信用额度", N_("credit limits")
    roles = (Role.CREDIT_CONTROLLER,)
    columns = (
        Column("customer_uscc", "客户统一社会信用代码", "Customer USCC", "91310000000000001Y",
               help_zh="与客户编码二选一", help_en="this or the customer code"),
        Column("customer_code", "客户编码", "Customer code", "K0001", help_zh="与信用代码二选一",
               help_en="this or the USCC"),
        Column("credit_limit", "信用额度", "Credit limit", "500000.00", True, type="decimal", help_zh="人民币",
               help_en="CNY"),
        Column("reason", "审批说明", "Reason", "原系统已批准额度", help_zh="可空：记为上线导入",
               help_en="optional: recorded as the go-live import"),
    )

    @staticmethod
    def schema() -> ma.Schema:  # type: ignore[override]
        return Schema.from_dict(fields_of(credit_schemas.LimitIn, "credit_limit", "reason")
                                | {"customer_uscc": USCC(), "customer_code": Code()})()

    def process(self, run: ImportRun, rows: list[Row]) -> None:
        usccs = sorted({r.data["customer_uscc"] for r in rows if r.data.get("customer_uscc")})
        codes = sorted({r.data["customer_code"] for r in rows if r.data.get("customer_code")})
        by_uscc = dict(run.session.execute(select(Customer.uscc, Customer.id).where(Customer.uscc.in_(usccs))).all())
        by_code = dict(run.session.execute(select(Customer.code, Customer.id).where(Customer.code.in_(codes))).all())
        for row in rows:
            uscc, code = row.data.get("customer_uscc"), row.data.get("customer_code")
            if uscc is None and code is None:
                run.error(row, "customer_uscc", "required")
                continue
            customer_id = by_uscc.get(uscc) if uscc else by_code.get(code)
            if customer_id is None:
                column = "customer_uscc" if uscc else "customer_code"
                run.error(row, column, "unknown-reference", params={"record": "customer"})
                continue
            if uscc and code and by_code.get(code) != customer_id:
                run.error(row, "customer_code", "code-uscc-mismatch", params={"record": "customer", "uscc": uscc})
                continue
            if not run.first_seen("customer", customer_id, row, "customer_uscc" if uscc else "customer_code"):
                continue
            if row.data.get("credit_limit") is None:
                run.error(row, "credit_limit", "required")
                continue
            try:
                with run.session.begin_nested():
                    version = set_credit_limit(run.session, run.actor, customer_id,
                                               credit_limit=row.data["credit_limit"],
                                               reason=row.data.get("reason") or "approved limit taken over at go-live")
            except DomainError as exc:
                run.rule_error(row, "credit_limit", exc)
                continue
            run.record("credit_limits", [version.id])
            run.count("created")

    def undo(self, session: Session, batch: ImportBatch, actor: Any = None) -> dict[str, int]:
        """Withdraw the imported versions: each customer's limit goes back to the version
        before (or to none), unless a later version was set since (then refused)."""
        versions = list(session.scalars(select(CreditLimit).join(
            ImportRecord, (ImportRecord.record_id == CreditLimit.id) & (ImportRecord.batch_id == batch.id)
            & (ImportRecord.entity == "credit_limits"))))
        for version in versions:
            later = session.scalar(select(func.count()).select_from(CreditLimit).where(
                CreditLimit.customer_id == version.customer_id, CreditLimit.version > version.version))
            if later:
                customer = session.get(Customer, version.customer_id)
                raise ImportInUse(Message("customer {customer} has a limit set after the import; the import cannot "
                                          "be undone", customer=Named.of(customer)))
            previous = session.scalars(select(CreditLimit).where(
                CreditLimit.customer_id == version.customer_id, CreditLimit.version < version.version)
                .order_by(CreditLimit.version.desc()).limit(1)).first()
            session.execute(update(CustomerExposure).where(CustomerExposure.customer_id == version.customer_id)
                            .values(credit_limit=previous.credit_limit if previous else None,
                                    limit_version=previous.version if previous else 0))
        if actor is not None:
            audit_rows(session, actor, entity="customer_credit", action="delete", deleted=True, id_key="customer_id",
                       reason=narrate("import-undone", REASON_LENGTH, import_id=batch.id),
                       records=[{"customer_id": v.customer_id, "version": v.version,
                                 "credit_limit": format(v.credit_limit, "f"), "reason": v.reason} for v in versions])
        session.execute(delete(CreditLimit).where(CreditLimit.id.in_([v.id for v in versions])))
        return {"credit_limits": len(versions)}


def _all_kinds() -> dict[str, ImportKind]:
    return {kind.name: kind for kind in (
        WarehousesImport(), MaterialsImport(), SuppliersImport(), CustomersImport(), StandardPricesImport(),
        GroupContractsImport(), CompanyContractsImport(), OpenOrdersImport(), OpeningStockImport(),
        CreditLimitsImport(), OpeningReceivablesImport(),
    )}


# In the order a new subsidiary loads them (docs/go-live.md).
KINDS: dict[str, ImportKind] = _all_kinds()
