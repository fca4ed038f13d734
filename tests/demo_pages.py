"""One prepared database for tests that read every page: the demo group (loaded as of 29
November 2026, as the browser tests load it) plus what the demo does not make, so that
every page has rows to show: in FORM01 a BOM, a released roll-up, a production order with
an issue and an output batch (its genealogy), an unreleased roll-up of the next period, the
raw material's supplier invoice and a part payment, a customer's return with its credit note in DIST01, and a finished close job for FORM01.

On PostgreSQL, ``prepared_database`` keeps the prepared database as a template named after a
hash of the code that makes it (erp/, migrations/, this file, tests/production.py) and gives
each run a copy of it (``CREATE DATABASE ... TEMPLATE``): the demo is loaded once per change
of that code, not once per run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp import clock
from erp.auth.models import User, UserCompany, UserWarehouse
from erp.auth.roles import Role
from erp.auth.services import actor_for_user
from erp.config import Settings
from erp.costing import jobs as close_jobs
from erp.credit import notes
from erp.credit import services as sales_orders
from erp.credit.exposure import CreditPolicy
from erp.db import make_engine, make_session_factory
from erp.demo.loader import load_demo
from erp.inventory import services as inventory
from erp.jobs.runner import JobEnvironment, run_job
from erp.migrate import upgrade
from erp.masterdata import services as masterdata
from erp.masterdata.models import Company, Customer, Material, Supplier, TaxCode, Warehouse
from erp.payables import services as payables
from erp.period import Period
from erp.production import orders, rollup
from erp.posting.models import Batch, StockBalance, StockStatus
from erp.purchasing.models import (
    Contract,
    ContractLine,
    ContractScope,
    ContractStatus,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
)
from tests.production import demo_plant

DEMO_DAY = dt.date(2026, 11, 29)


def _user(session: Session, username: str) -> User:
    return session.scalars(select(User).where(User.username == username)).one()


def _production(session: Session) -> int:
    """FORM01 buys 5 kg of PG-RAW, makes PG-TAB from 1 kg per 1,000 tablets, rolls up and
    releases November's standard costs (tests/production.py), orders 1,000 tablets, issues
    1 kg, receives 990."""
    day = DEMO_DAY
    period = Period.of(day)
    form01 = session.scalars(select(Company).where(Company.code == "FORM01")).one()
    clerk_user = _user(session, "clerk.form01")
    clerk = actor_for_user(clerk_user)
    cost = actor_for_user(_user(session, "cost.form01"))
    warehouse = session.scalars(
        select(Warehouse).join(UserWarehouse, UserWarehouse.warehouse_id == Warehouse.id)
        .where(UserWarehouse.user_id == clerk_user.id, Warehouse.company_id == form01.id).order_by(Warehouse.id)).first()
    assert warehouse is not None
    plant = demo_plant(session, company=form01, warehouse=warehouse, clerk=clerk_user, cost=cost, raw="PG-RAW",
                       tablets="PG-TAB", cost_center="PG-PRESS", day=day, label_zh="页面测试", label_en="page test")
    made = orders.create_order(session, clerk, company_id=form01.id, material_id=plant.tablet.id, quantity=D("1000"),
                               order_date=day, warehouse_id=warehouse.id)
    orders.release_order(session, clerk, made.id)
    orders.issue_components(session, clerk, made.id, warehouse_id=warehouse.id, posting_date=day,
                            items=[orders.IssueItem(plant.component.id, D("1"), None)])
    orders.deliver_output(session, clerk, made.id, quantity=D("990"), posting_date=day, batch_number="PG-TAB-1")
    # December's run, not released: a run's page with its release still to do.
    rollup.run_rollup(session, cost, company_id=form01.id, period=str(period.next()))
    return plant.po_line_id


def _payables(session: Session, po_line_id: int) -> None:
    """FORM01's accounts payable invoices PO-PG-RAW's 5 kg (100.00 + 13 % VAT) and pays it."""
    ap = actor_for_user(_user(session, "ap.form01"))
    line = session.get(PurchaseOrderLine, po_line_id)
    assert line is not None
    order = session.get(PurchaseOrder, line.order_id)
    assert order is not None
    vat13 = session.scalars(select(TaxCode.id).where(TaxCode.code == "VAT13")).one()
    invoice = payables.enter_invoice(session, ap, payables.InvoiceRequest(
        company_id=order.receiving_company_id, supplier_id=order.supplier_id, number="PG-INV-1", invoice_date=DEMO_DAY,
        net_total=D("100.00"), tax_total=D("13.00"), gross_total=D("113.00"),
        lines=[payables.LineRequest(po_line_id=po_line_id, quantity=D("5"), unit_price=D("20.00"), tax_code_id=vat13)]))
    payables.pay_supplier(session, ap, payables.PaymentRequest(
        company_id=order.receiving_company_id, supplier_id=order.supplier_id, payment_date=DEMO_DAY,
        amount=D("50.00"), invoice_ids=[invoice.id]))


def _customer_return(session: Session) -> int:
    """DIST01's newest invoiced shipment: one unit comes back."""
    sales = actor_for_user(_user(session, "sales.dist01"))
    rows, _ = notes.returnable_shipments(session, sales, limit=1)
    assert rows, "the demo ships to DIST01's customers"
    return notes.return_goods(session, sales, shipment_document_id=rows[0].document_id, quantity=D("1"),
                              posting_date=DEMO_DAY, reason="包装破损").id


def _quarantine_without_lot(session: Session) -> None:
    """FORM01's quality counts 0.5 kg more of PG-RAW-1 than the books hold and keeps it in
    quarantine until someone decides: quarantined stock with no inspection lot, decided on
    the quarantine's own decision page (inventory_pages.quality_decision)."""
    quality = actor_for_user(_user(session, "quality.form01"))
    raw = session.scalars(select(Material).where(Material.code == "PG-RAW")).one()
    batch = session.scalars(select(Batch).where(Batch.material_id == raw.id, Batch.batch_number == "PG-RAW-1")).one()
    line = session.scalars(select(PurchaseOrderLine).where(PurchaseOrderLine.material_id == raw.id)).one()
    inventory.adjust_stock(session, quality, warehouse_id=line.warehouse_id, material_id=raw.id, quantity=D("0.5"),
                           posting_date=DEMO_DAY, kind=inventory.AdjustmentKind.COUNT, batch_id=batch.id,
                           status=StockStatus.QUARANTINE, reason="盘点多出，待质量判定")


def _intercompany_sale(session: Session) -> None:
    """FORM01 sells 500 PG-TAB tablets to DIST01 at 0.05 (its standard 0.03): the group's
    companies linked to their customer and supplier records by the administrator, DIST01's
    purchase order to FORM01's supplier record, FORM01's sales order against its line
    (by sales.form01, the demo's FORM01 salesperson), confirmed and shipped; not yet
    received (in transit at the month's end)."""
    admin = actor_for_user(_user(session, "admin"))
    form01 = session.scalars(select(Company).where(Company.code == "FORM01")).one()
    dist01 = session.scalars(select(Company).where(Company.code == "DIST01")).one()
    supplier = Supplier(code="S-FORM01", uscc=form01.uscc or "91310000000000901X", name_zh=form01.name_zh,
                        name_en=form01.name_en)
    customer = Customer(code="K-DIST01", uscc=dist01.uscc or "91310000000000902X", name_zh=dist01.name_zh,
                        name_en=dist01.name_en, payment_terms_days=60)
    session.add_all([supplier, customer])
    session.flush()
    masterdata.update_record(session, admin, masterdata.COMPANIES, form01.id, {"supplier_id": supplier.id},
                             reason="集团内部交易")
    masterdata.update_record(session, admin, masterdata.COMPANIES, dist01.id, {"customer_id": customer.id},
                             reason="集团内部交易")
    seller = _user(session, "sales.form01")
    tablet = session.scalars(select(Material).where(Material.code == "PG-TAB")).one()
    made = session.scalars(select(Batch).where(Batch.material_id == tablet.id)).one()
    from_warehouse = session.scalars(select(StockBalance.warehouse_id).where(StockBalance.batch_id == made.id)).first()
    to_warehouse = session.scalars(select(Warehouse.id).where(Warehouse.company_id == dist01.id)
                                   .order_by(Warehouse.id)).first()
    contract = Contract(number="K-PG-TAB-IC", supplier_id=supplier.id, scope=ContractScope.COMPANY,
                        company_id=dist01.id, valid_from=DEMO_DAY, valid_to=DEMO_DAY + dt.timedelta(days=365),
                        status=ContractStatus.ACTIVE, created_by=seller.id,
                        lines=[ContractLine(material_id=tablet.id, unit_price=D("0.05"), unit_id=tablet.unit_id)])
    order = PurchaseOrder(number="PO-PG-TAB-IC", purchasing_company_id=dist01.id, receiving_company_id=dist01.id,
                          supplier_id=supplier.id, order_date=DEMO_DAY, status=PurchaseOrderStatus.OPEN,
                          created_by=seller.id)
    session.add_all([contract, order])
    session.flush()
    order.lines.append(PurchaseOrderLine(line_no=1, material_id=tablet.id, quantity=D("500"), unit_price=D("0.05"),
                                         amount=D("25.00"), contract_line_id=contract.lines[0].id,
                                         warehouse_id=to_warehouse))
    session.flush()
    sales = actor_for_user(seller)
    vat13 = session.scalars(select(TaxCode.id).where(TaxCode.code == "VAT13")).one()
    sale = sales_orders.create_order(session, sales, company_id=form01.id, customer_id=customer.id,
                                     order_date=DEMO_DAY, lines=[sales_orders.OrderLineRequest(
                                         tablet.id, from_warehouse, D("500"), D("0.05"),
                                         partner_po_line_id=order.lines[0].id, tax_code_id=vat13)]).order
    sales_orders.confirm_order(session, sales, sale.id, policy=CreditPolicy())
    sales_orders.ship_order(session, sales, sale.id, posting_date=DEMO_DAY, policy=CreditPolicy(),
                            lines=[sales_orders.ShipmentLineRequest(sale.lines[0].id, D("500"))])


def prepare(session_factory: sessionmaker[Session], settings: Settings, engine: Any) -> dict[str, list[str]]:
    """Load the demo and the additions above into an empty migrated database; returns the
    pages only a form's answer leads to (the close job's, the credit note's), by user."""
    with clock.business_day(DEMO_DAY):
        load_demo(session_factory(), seed=2026)
        with session_factory() as session, session.begin():
            _payables(session, _production(session))
            note = _customer_return(session)
            _quarantine_without_lot(session)
            _intercompany_sale(session)
            cost = actor_for_user(_user(session, "cost.group"))
            form01 = session.scalars(select(Company.id).where(Company.code == "FORM01")).one()
            job = close_jobs.queue_close(session, cost, period=str(Period.of(DEMO_DAY)), company_ids=[form01])
            job_id = job.id
    # Closed on the run's business day, after November has ended.
    run_job(JobEnvironment(settings=settings, engine=engine, session_factory=make_session_factory(engine)), job_id)
    return {"cost.group": [f"/costing/jobs/{job_id}"], "sales.dist01": [f"/returns/credit-notes/{note}"]}


ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PREFIX = "erp_pages_"
TEMPLATES_KEPT = 3  # the newest prepared templates kept on the server (other branches', older code)


def _fingerprint() -> str:
    """A hash of every file the prepared database depends on: the application's code and
    migrations, this file and the production helpers it calls."""
    digest = hashlib.sha256()
    files = sorted([*(ROOT / "erp").rglob("*.py"), *(ROOT / "migrations").rglob("*.py"),
                    ROOT / "tests" / "demo_pages.py", ROOT / "tests" / "production.py"])
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _prepare_into(url: str, make_settings: Any) -> dict[str, list[str]]:
    engine = make_engine(url)
    try:
        upgrade(engine)
        return prepare(make_session_factory(engine), make_settings(url), engine)
    finally:
        engine.dispose()


def prepared_database(test_url: str, name: str, make_settings: Any) -> tuple[str, dict[str, list[str]]]:
    """A fresh PostgreSQL database ``name`` on ``test_url``'s server holding the demo and the
    additions above; returns its URL and ``prepare``'s pages. Copied from the template of the
    current code, which is prepared first if the server has none (the pages ride in the
    template's comment)."""
    admin_url = test_url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0] + "/postgres"
    template = TEMPLATE_PREFIX + _fingerprint()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        found = conn.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                             (template,)).fetchone()
        if found is None or not found[0]:
            # prepared under a name of its own, renamed when complete: a run that stops half-way
            # or runs beside another leaves no half-prepared template behind
            building = f"{template}_{os.getpid()}"
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(building)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(building)))
            try:
                seeds = _prepare_into(test_url.rsplit("/", 1)[0] + "/" + building, make_settings)
            except BaseException:
                conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(building)))
                raise
            conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(building), sql.Literal(json.dumps(seeds))))
            try:
                conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                    sql.Identifier(building), sql.Identifier(template)))
            except psycopg.errors.DuplicateDatabase:  # another run prepared it meanwhile
                conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(building)))
            _drop_old_templates(conn)
        found = conn.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                             (template,)).fetchone()
        assert found is not None and found[0]
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))
    return test_url.rsplit("/", 1)[0] + "/" + name, json.loads(found[0])


def _drop_old_templates(conn: psycopg.Connection[Any]) -> None:
    """Keep the newest ``TEMPLATES_KEPT`` complete templates; one being copied stays."""
    names = [row[0] for row in conn.execute(
        "SELECT datname FROM pg_database WHERE datname ~ %s ORDER BY oid DESC", (f"^{TEMPLATE_PREFIX}[0-9a-f]{{16}}$",))]
    for old in names[TEMPLATES_KEPT:]:
        try:
            conn.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(old)))
        except psycopg.errors.ObjectInUse:
            pass
