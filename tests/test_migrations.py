"""The schema comes from Alembic migrations only: they must produce exactly the models."""

from __future__ import annotations

from decimal import Decimal as D

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from erp.costing.models import MaterialPeriodBalance
from erp.db import Base
from erp.migrate import alembic_config, upgrade
from erp.posting.models import AccountingPeriod, PeriodStatus
from tests.world import World


def test_migrations_and_models_agree(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_database_is_at_the_single_head(engine: Engine) -> None:
    script = ScriptDirectory.from_config(alembic_config())
    heads = script.get_heads()
    assert len(heads) == 1, f"migrations have several heads: {heads}"
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_heads() == tuple(heads)


def test_downgrading_0034_writes_back_the_months_a_material_did_not_move(engine: Engine, world: World) -> None:
    """Since 0034 a close writes balances only for the materials that moved; the code before
    it reads a closed period's balances from that period's rows alone, so the downgrade
    writes each idle month's carried row back (#18, review R2)."""
    company, material = world.companies["A"], world.materials["exc_local"]
    b = MaterialPeriodBalance
    with Session(engine) as session, session.begin():
        for period in ("2026-10", "2026-11", "2026-12"):
            session.add(AccountingPeriod(company_id=company, period=period, status=PeriodStatus.CLOSED))
        session.add(b(company_id=company, period="2026-10", material_id=material, opening_quantity=D("0"),
                      receipts_quantity=D("100"), receipts_value=D("1000.00"), receipts_variance=D("50.00"),
                      consumption_quantity=D("40"), consumption_value=D("400.00"), consumption_variance=D("20.00"),
                      variance_rate=D("0.05"), closing_quantity=D("60"), closing_value=D("600.00"),
                      closing_variance=D("30.00")))
    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0033_opening_stock_lots")
        with Session(engine) as session:
            rows = session.execute(
                select(b.period, b.opening_quantity, b.opening_value, b.opening_variance, b.consumption_variance,
                       b.variance_rate, b.closing_quantity, b.closing_value, b.closing_variance)
                .where(b.company_id == company, b.material_id == material).order_by(b.period)).all()
        assert [tuple(row) for row in rows[1:]] == [
            (period, D("60"), D("600.00"), D("30.00"), D("0"), D("0.05"), D("60"), D("600.00"), D("30.00"))
            for period in ("2026-11", "2026-12")]
        assert rows[0].period == "2026-10"
    finally:
        upgrade(engine)


def test_0036_moves_import_records_onto_the_records_on_sqlite_with_data(tmp_path: object) -> None:
    """On SQLite with rows in materials and rows pointing at them (a rebuilt table would
    trip over those foreign keys), 0036 adds the import's columns, moves each record's
    committed import onto it (not an undone one's: SQLite reuses deleted ids), and its
    downgrade puts them back in import_records; upgrading again reads them back."""
    from sqlalchemy import text

    from erp.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path}/m.sqlite3")  # type: ignore[str-format]
    upgrade(engine, "0035_value_without_quantity")
    setup = [
        "INSERT INTO groups (id, code, name_zh, name_en, created_at, updated_at) VALUES (1, 'G', 'G', 'G', "
        "'2026-11-30', '2026-11-30')",
        "INSERT INTO units (id, code, name_zh, name_en, decimals, active, created_at, updated_at) "
        "VALUES (1, 'KG', 'KG', 'KG', 3, 1, '2026-11-30', '2026-11-30')",
        "INSERT INTO users (id, username, display_name, password_hash, role, group_wide, active, created_at) "
        "VALUES (1, 'steward', 'steward', 'x', 'steward', 1, 1, '2026-11-30')",
        "INSERT INTO materials (id, code, name_zh, name_en, material_type, unit_id, procurement_scope, batch_managed, "
        "inspection_required, over_receipt_tolerance_pct, active, created_at, updated_at) VALUES "
        "(5, 'M5', 'M', 'M', 'raw', 1, 'local', 1, 0, 0, 1, '2026-11-30', '2026-11-30'), "
        "(6, 'M6', 'M', 'M', 'raw', 1, 'local', 1, 0, 0, 1, '2026-11-30', '2026-11-30')",
        "INSERT INTO batches (id, material_id, batch_number, created_at) VALUES (1, 5, 'B1', '2026-11-30')",
        "INSERT INTO import_batches (id, kind, company_key, file_name, rows, status, summary, created_by, created_at) "
        "VALUES (1, 'materials', 0, 'a.csv', 1, 'undone', '{}', 1, '2026-11-30'), "
        "(2, 'materials', 0, 'b.csv', 2, 'committed', '{}', 1, '2026-11-30')",
        "INSERT INTO import_records (batch_id, entity, record_id, row_number) VALUES "
        "(1, 'materials', 5, 7), (2, 'materials', 5, 2), (2, 'materials', 6, 3)",
    ]
    with engine.begin() as connection:
        for statement in setup:
            connection.execute(text(statement))
    upgrade(engine)
    moved = "SELECT id, import_batch_id, import_row FROM materials ORDER BY id"
    with engine.connect() as connection:
        assert [tuple(r) for r in connection.execute(text(moved))] == [(5, 2, 2), (6, 2, 3)]
        assert connection.scalar(text("SELECT count(*) FROM import_records WHERE entity = 'materials'")) == 0
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0035_value_without_quantity")
    with engine.connect() as connection:
        assert sorted(tuple(r) for r in connection.execute(text(
            "SELECT batch_id, record_id, row_number FROM import_records WHERE entity = 'materials'"))) == [
            (2, 5, 2), (2, 6, 3)]
    upgrade(engine)
    with engine.connect() as connection:
        assert [tuple(r) for r in connection.execute(text(moved))] == [(5, 2, 2), (6, 2, 3)]
    engine.dispose()


def test_0041_links_each_price_difference_to_its_invoice_by_kind_and_number(
        engine: Engine, session_factory: object, world: World) -> None:
    """0041 backfills the price-difference documents 0040's code wrote (no invoice id) from
    their supplier, company, posting date and number, telling an invoice from a credit memo
    of the same number by the document's reason; run again it changes nothing; afterwards a
    price difference without its invoice is refused by the check."""
    from importlib import import_module

    import pytest
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from erp.payables.models import DocumentKind
    from erp.posting.models import MovementType, StockDocument
    from tests.payables import enter, vat13_on_materials
    from tests.stock import open_order, set_standard

    vat13_on_materials(session_factory, world)  # type: ignore[arg-type]
    set_standard(session_factory, world, "exc_local", "12.00")  # type: ignore[arg-type]
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])  # type: ignore[arg-type]
    # the same printed number on the invoice and the credit memo, on the same day
    invoice = enter(session_factory, world, "SAME-1", [(line, "100", "12.30")], net="1230.00",  # type: ignore[arg-type]
                    tax="159.90")
    memo = enter(session_factory, world, "SAME-1", [(line, "40", "12.30")], net="492.00", tax="63.96",  # type: ignore[arg-type]
                 kind=DocumentKind.CREDIT_MEMO, credits=invoice)
    linked = select(StockDocument.reason, StockDocument.supplier_invoice_id).where(
        StockDocument.doc_type == MovementType.PRICE_DIFFERENCE).order_by(StockDocument.id)
    with Session(engine) as session:
        expected = [tuple(row) for row in session.execute(linked)]
    assert [invoice_id for _, invoice_id in expected] == [invoice, memo]
    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0040_price_difference_movements")
    finally:
        upgrade(engine)
    with Session(engine) as session:
        assert [tuple(row) for row in session.execute(linked)] == expected
    backfill = import_module("migrations.versions.0041_price_difference_invoice").BACKFILL
    with engine.begin() as connection:
        assert connection.execute(backfill).rowcount == 0  # every row linked: nothing to do again
    with pytest.raises(IntegrityError, match="ck_stock_documents_price_difference_invoice"), \
            engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO stock_documents (id, number, doc_type, company_id, posting_date, period, supplier_id, "
            "reference, reason, created_by, created_at) SELECT max(id) + 1000, 'PD-NO-INVOICE', doc_type, "
            "min(company_id), min(posting_date), min(period), min(supplier_id), 'SAME-1', 'no invoice', "
            "min(created_by), min(created_at) FROM stock_documents WHERE doc_type = 'price_difference' "
            "GROUP BY doc_type"))


def test_0041_round_trip_on_sqlite(tmp_path: object) -> None:
    """On SQLite 0041 adds the column with its reference and the check into the table's
    text; its downgrade takes the check out and leaves the column empty; upgrading again
    takes the column up."""
    from sqlalchemy import text

    from erp.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path}/m41.sqlite3")  # type: ignore[str-format]
    upgrade(engine)
    table = "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'stock_documents'"
    with engine.connect() as connection:
        assert "CHECK (doc_type <> 'price_difference' OR supplier_invoice_id IS NOT NULL)" in connection.scalar(
            text(table))
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0040_price_difference_movements")
    with engine.connect() as connection:
        assert "supplier_invoice_id IS NOT NULL" not in connection.scalar(text(table))
    upgrade(engine)
    with engine.connect() as connection:
        assert connection.scalar(text(table)).count("supplier_invoice_id IS NOT NULL") == 1
    engine.dispose()


def test_0042_downgrade_refuses_while_an_invoice_is_reversed_and_works_without(
        engine: Engine, session_factory: object, world: World) -> None:
    """Without a reversal 0042's downgrade drops the reversal columns (and upgrading adds them
    again). Once an invoice is reversed it refuses: dropping the columns would make the
    reversed invoice (open 0.00) look paid to the code of 0041 while its reversal entry stays
    in the books; nothing changes, the database stays at the head."""
    import datetime as dt

    import pytest
    from sqlalchemy import inspect

    from erp.payables import services
    from tests.payables import enter, vat13_on_materials
    from tests.stock import open_order, receive, set_standard

    vat13_on_materials(session_factory, world)  # type: ignore[arg-type]
    set_standard(session_factory, world, "exc_local", "12.00")  # type: ignore[arg-type]
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])  # type: ignore[arg-type]
    receive(session_factory, world, line, "100")  # type: ignore[arg-type]
    invoice = enter(session_factory, world, "INV-DOWN", [(line, "100", "12.00")],  # type: ignore[arg-type]
                    net="1200.00", tax="156.00")
    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0041_price_difference_invoice")
        columns = {c["name"] for c in inspect(engine).get_columns("supplier_invoices")}
        assert "reversed_at" not in columns and "reversal_entry_id" not in columns
    finally:
        upgrade(engine)
    with Session(engine) as session, session.begin():
        services.reverse_invoice(session, world.actors["ap_a"], invoice, reason="wrong price",
                                 reversal_date=dt.date(2026, 11, 25))
    try:
        with pytest.raises(RuntimeError, match=r"1 supplier invoices or credit memos are reversed \(the first: "
                                               r"INV-DOWN\).*cannot be downgraded"), engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0041_price_difference_invoice")
    finally:
        upgrade(engine)
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_heads() == tuple(
            ScriptDirectory.from_config(alembic_config()).get_heads())
        assert connection.exec_driver_sql(
            "SELECT reversal_date, open_amount FROM supplier_invoices WHERE number = 'INV-DOWN'").one() == (
            dt.date(2026, 11, 25), D("0.00"))


def test_0043_round_trip_on_sqlite_and_its_downgrade_refused_while_a_payment_is_reversed(tmp_path: object) -> None:
    """On SQLite 0043 adds the payment's reversal columns and its whole-or-nothing check,
    and the invoice's reversal-entry check, into the tables' text; a half-recorded reversal
    is refused; the downgrade is refused while a payment is reversed, and once none is it
    takes both checks out; upgrading again puts them back once."""
    import sqlite3

    import pytest
    from sqlalchemy import text

    from erp.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path}/m43.sqlite3")  # type: ignore[str-format]
    upgrade(engine, "0046_document_numbers")  # payments without 0047's document numbers
    payments = "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'supplier_payments'"
    invoices = "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'supplier_invoices'"
    with engine.connect() as connection:
        assert "ck_supplier_payments_reversal_recorded" in connection.scalar(text(payments))
        assert "reversed_at IS NULL OR entry_id IS NULL OR reversal_entry_id IS NOT NULL" in connection.scalar(
            text(invoices))
    insert = ("INSERT INTO supplier_payments (id, company_id, supplier_id, payment_date, amount, created_by, "
              "created_at, reversed_by, reversed_at, reversal_date, reversal_reason, reversal_entry_id) VALUES "
              "(1, 1, 1, '2026-11-20', 100, 1, '2026-11-20', 1, '2026-11-25', '2026-11-25', 'bank return', {entry})")
    raw = sqlite3.connect(f"{tmp_path}/m43.sqlite3", isolation_level=None)  # no users, companies, entries here
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):  # reversed without its entry
        raw.execute(insert.format(entry="NULL"))
    raw.execute(insert.format(entry="1"))
    raw.close()
    config = alembic_config()
    with pytest.raises(RuntimeError, match="have been reversed"), engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0042_supplier_invoice_reversal")
    with engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM supplier_payments")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0042_supplier_invoice_reversal")
    with engine.connect() as connection:
        assert "reversal_recorded" not in connection.scalar(text(payments))
        assert "reversal_entry_id IS NOT NULL" not in connection.scalar(text(invoices))
    upgrade(engine)
    with engine.connect() as connection:
        assert connection.scalar(text(payments)).count("ck_supplier_payments_reversal_recorded") == 1
        assert connection.scalar(text(invoices)).count(
            "reversed_at IS NULL OR entry_id IS NULL OR reversal_entry_id IS NOT NULL") == 1
    engine.dispose()


def test_0044_numbers_the_orders_there_were_as_the_service_numbers_them(
        engine: Engine, session_factory: object, world: World) -> None:
    """0044's downgrade takes the numbers and their series away; upgrading numbers the orders
    again per company and year of the order date, in the order they were created (their ids),
    which is how the service numbered them, and each series continues after its last."""
    import datetime as dt

    from sqlalchemy import inspect

    from erp.credit.models import SalesOrder
    from erp.purchasing.models import DocumentSequence
    from tests.service.test_sales_order_numbers import _take

    taken = [_take(session_factory, world, company=company, day=day)  # type: ignore[arg-type]
             for company, day in (("A", dt.date(2026, 11, 3)), ("B", dt.date(2026, 11, 4)),
                                  ("A", dt.date(2025, 12, 31)), ("A", dt.date(2026, 11, 1)))]
    assert taken == ["SO-CA-2026-000001", "SO-CB-2026-000001", "SO-CA-2025-000001", "SO-CA-2026-000002"]
    numbers = select(SalesOrder.id, SalesOrder.number).order_by(SalesOrder.id)
    with Session(engine) as session:
        before = [tuple(row) for row in session.execute(numbers)]
    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0043_supplier_payment_reversal")
        assert "number" not in {c["name"] for c in inspect(engine).get_columns("sales_orders")}
        with engine.connect() as connection:
            assert connection.scalar(select(DocumentSequence).where(DocumentSequence.series.like("SO-%"))) is None
    finally:
        upgrade(engine)
    with Session(engine) as session:
        assert [tuple(row) for row in session.execute(numbers)] == before
    assert [number for _, number in before] == taken
    assert _take(session_factory, world, company="A") == "SO-CA-2026-000003"  # type: ignore[arg-type]
    assert _take(session_factory, world, company="B") == "SO-CB-2026-000002"  # type: ignore[arg-type]


def _numbering_round_trip(engine: Engine, path: str, setup: list[str], column: str,
                          numbers: dict[str, list[tuple[int, str]]], *, series: list[tuple[str, int]],
                          series_before: list[tuple[str, int]], downgrade_to: str, refused: dict[str, str]) -> None:
    """A numbering migration's round trip on the SQLite file ``path`` (``engine``, at the
    revision before it): ``setup``'s rows written raw; upgraded, each table's rows carry the
    numbers ``numbers`` gives by id in ``column`` (NOT NULL; ``refused`` maps the constraint
    each statement breaks, UNIQUE and NOT NULL, to it) and the series stand at ``series``;
    downgraded to ``downgrade_to``, the column is gone and the series are ``series_before``;
    upgraded again, the rows are numbered the same way and the series stand as before."""
    import sqlite3

    import pytest
    from sqlalchemy import text

    def sql_of(connection: object, table: str) -> str:
        return connection.scalar(  # type: ignore[attr-defined, no-any-return]
            text(f"SELECT sql FROM sqlite_master WHERE type = 'table' AND name = '{table}'"))

    def numbered_as_expected(connection: object) -> None:
        for table, expected in numbers.items():
            assert [tuple(r) for r in connection.execute(  # type: ignore[attr-defined]
                text(f"SELECT id, {column} FROM {table} ORDER BY id"))] == expected, table
        assert [tuple(r) for r in connection.execute(text(listed))] == series  # type: ignore[attr-defined]

    listed = "SELECT series, next_value FROM document_sequences ORDER BY series"
    raw = sqlite3.connect(path, isolation_level=None)  # no customers, suppliers or users here
    for statement in setup:
        raw.execute(statement)
    raw.close()
    upgrade(engine)
    with engine.connect() as connection:
        numbered_as_expected(connection)
        for table in numbers:
            assert f"{column} VARCHAR(50) NOT NULL" in sql_of(connection, table), table
    raw = sqlite3.connect(path, isolation_level=None)
    for constraint, statement in refused.items():
        with pytest.raises(sqlite3.IntegrityError, match=constraint):
            raw.execute(statement)
    raw.close()
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, downgrade_to)
    with engine.connect() as connection:
        for table in numbers:
            assert column not in sql_of(connection, table), table
        assert [tuple(r) for r in connection.execute(text(listed))] == series_before
    upgrade(engine)
    with engine.connect() as connection:
        numbered_as_expected(connection)
    engine.dispose()


def test_0044_round_trip_on_sqlite_with_orders(tmp_path: object) -> None:
    """On SQLite 0044 numbers the orders there are (per company and year, by id, never cut
    at six digits), makes the column NOT NULL and unique, and sets the series; its downgrade
    drops the column and the series; upgrading again numbers them the same way."""
    from erp.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path}/m44.sqlite3")  # type: ignore[str-format]
    upgrade(engine, "0043_supplier_payment_reversal")
    setup = [
        "INSERT INTO companies (id, code, segment_id, name_zh, name_en, active, created_at, updated_at) VALUES "
        "(1, 'CA', 1, 'A', 'A', 1, '2026-11-30', '2026-11-30'), (2, 'CB', 1, 'B', 'B', 1, '2026-11-30', '2026-11-30')",
        "INSERT INTO sales_orders (id, company_id, customer_id, order_date, status, created_by, created_at, "
        "credit_released) VALUES (7, 1, 1, '2026-11-03', 'draft', 1, '2026-11-30', 0), "
        "(3, 2, 1, '2026-11-03', 'draft', 1, '2026-11-30', 0), (9, 1, 1, '2025-12-31', 'shipped', 1, '2026-11-30', 0), "
        "(12, 1, 1, '2026-01-01', 'cancelled', 1, '2026-11-30', 0), (5, 1, 1, '2026-12-01', 'draft', 1, '2026-11-30', 0)",
        # the demo's series of purchase orders is left alone
        "INSERT INTO document_sequences (series, next_value) VALUES ('PO-CA-2026', 4)",
    ]
    _numbering_round_trip(
        engine, f"{tmp_path}/m44.sqlite3", setup, "number",  # type: ignore[str-format]
        {"sales_orders": [(3, "SO-CB-2026-000001"), (5, "SO-CA-2026-000001"), (7, "SO-CA-2026-000002"),
                          (9, "SO-CA-2025-000001"), (12, "SO-CA-2026-000003")]},
        series=[("PO-CA-2026", 4), ("SO-CA-2025", 2), ("SO-CA-2026", 4), ("SO-CB-2026", 2)],
        series_before=[("PO-CA-2026", 4)], downgrade_to="0043_supplier_payment_reversal",
        refused={"UNIQUE": "UPDATE sales_orders SET number = 'SO-CA-2026-000001' WHERE id = 7",
                 "NOT NULL": "UPDATE sales_orders SET number = NULL WHERE id = 7"})


def test_0045_fills_the_applied_amount_of_standing_and_reversed_credit_memos(
        engine: Engine, session_factory: object, world: World) -> None:
    """INV-M 1,356.00 paid 1,200.00 (156.00 open). CM-1 (20 kg, 271.20) reduces it: applies
    156.00, keeps 115.20 open; reversed, it gives the 156.00 back (INV-M's audit row
    ``credit-memo-reversed``: 0.00 -> 156.00) on 25 November. CM-2 (10 kg, 135.60) on 25
    November reduces it: applies 135.60 (INV-M 20.40 open). Downgraded to 0044 (the column
    dropped) and upgraded again, 0045 finds CM-2's 135.60 from its open part (135.60 - 0.00)
    and CM-1's 156.00 from INV-M's audit row; INV-M's stays 0.00."""
    import datetime as dt

    from erp.payables import services
    from erp.payables.models import DocumentKind
    from tests.payables import enter, vat13_on_materials
    from tests.stock import open_order, receive, set_standard

    vat13_on_materials(session_factory, world)  # type: ignore[arg-type]
    set_standard(session_factory, world, "exc_local", "12.00")  # type: ignore[arg-type]
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])  # type: ignore[arg-type]
    receive(session_factory, world, line, "100")  # type: ignore[arg-type]
    invoice = enter(session_factory, world, "INV-M", [(line, "100", "12.00")],  # type: ignore[arg-type]
                    net="1200.00", tax="156.00")
    with Session(engine) as session, session.begin():
        services.pay_supplier(session, world.actors["ap_a"], services.PaymentRequest(
            company_id=world.companies["A"], supplier_id=world.suppliers["sup1"], payment_date=dt.date(2026, 11, 20),
            amount=D("1200.00"), invoice_ids=[invoice]))
    first = enter(session_factory, world, "CM-1", [(line, "20", "12.00")], net="240.00",  # type: ignore[arg-type]
                  tax="31.20", kind=DocumentKind.CREDIT_MEMO, credits=invoice)
    with Session(engine) as session, session.begin():
        services.reverse_invoice(session, world.actors["ap_a"], first, reason="wrong invoice",
                                 reversal_date=dt.date(2026, 11, 25))
    enter(session_factory, world, "CM-2", [(line, "10", "12.00")], net="120.00", tax="15.60",  # type: ignore[arg-type]
          kind=DocumentKind.CREDIT_MEMO, credits=invoice, on=dt.date(2026, 11, 25))
    query = "SELECT number, applied_amount, open_amount FROM supplier_invoices ORDER BY id"
    expected = [("INV-M", D("0.00"), D("20.40")), ("CM-1", D("156.00"), D("0.00")), ("CM-2", D("135.60"), D("0.00"))]
    with engine.connect() as connection:
        assert [tuple(row) for row in connection.exec_driver_sql(query)] == expected
    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0044_sales_order_numbers")
        from sqlalchemy import inspect
        assert "applied_amount" not in {c["name"] for c in inspect(engine).get_columns("supplier_invoices")}
    finally:
        upgrade(engine)
    with engine.connect() as connection:
        assert [tuple(row) for row in connection.exec_driver_sql(query)] == expected


def test_0045_round_trip_on_sqlite(tmp_path: object) -> None:
    """On SQLite 0045 adds the column and its two checks into the table's text: a credit
    memo whose open part is not its total less what it applied is refused; the downgrade
    takes the checks out (the column stays, unused), upgrading puts them back once."""
    import sqlite3

    import pytest
    from sqlalchemy import text

    from erp.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path}/m45.sqlite3")  # type: ignore[str-format]
    upgrade(engine, "0045_credit_memo_applied_amount")  # rows without 0046's document numbers
    invoices = "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'supplier_invoices'"
    with engine.connect() as connection:
        table = connection.scalar(text(invoices))
        assert table.count("ck_supplier_invoices_applied_amount_range") == 1
        assert table.count("ck_supplier_invoices_memo_open_is_unapplied") == 1
    insert = ("INSERT INTO supplier_invoices (id, document_kind, invoice_kind, number, supplier_id, company_id, "
              "invoice_date, posting_date, due_date, net_total, tax_total, gross_total, open_amount, blocked, "
              "created_by, created_at, credits_invoice_id, applied_amount) VALUES ({id}, 'credit_memo', 'special', "
              "'CM-{id}', 1, 1, '2026-11-20', '2026-11-20', '2026-12-20', 100, 13, 113, {open}, 0, 1, "
              "'2026-11-20', 1, {applied})")
    raw = sqlite3.connect(f"{tmp_path}/m45.sqlite3", isolation_level=None)  # no users, companies here
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):  # applied 13.00 but 113.00 open
        raw.execute(insert.format(id=2, open="113", applied="13"))
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):  # more applied than its total
        raw.execute(insert.format(id=2, open="0", applied="114"))
    raw.execute(insert.format(id=2, open="100", applied="13"))
    raw.execute("DELETE FROM supplier_invoices")
    raw.close()
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0044_sales_order_numbers")
    with engine.connect() as connection:
        table = connection.scalar(text(invoices))
        assert "applied_amount_range" not in table and "memo_open_is_unapplied" not in table
    upgrade(engine)
    with engine.connect() as connection:
        table = connection.scalar(text(invoices))
        assert table.count("ck_supplier_invoices_applied_amount_range") == 1
        assert table.count("ck_supplier_invoices_memo_open_is_unapplied") == 1
    engine.dispose()


def test_0046_round_trip_on_sqlite_numbers_existing_documents_per_company_prefix_and_year(tmp_path: object) -> None:
    """On SQLite 0046 numbers the supplier invoices and credit memos, sales invoices and debit
    notes, payments and credit notes there are (per company, prefix and year of the posting
    date, by id), makes the columns NOT NULL and unique, and sets each series to continue; its
    downgrade drops the columns and those series only; upgrading again numbers them the same."""
    from erp.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path}/m46.sqlite3")  # type: ignore[str-format]
    upgrade(engine, "0045_credit_memo_applied_amount")
    supplier_invoice = (
        "INSERT INTO supplier_invoices (id, document_kind, invoice_kind, number, supplier_id, company_id, invoice_date, "
        "posting_date, due_date, net_total, tax_total, gross_total, open_amount, blocked, created_by, created_at, "
        "applied_amount) VALUES ({id}, '{kind}', 'special', 'S-{id}', 1, {company}, '{day}', '{day}', '2027-01-31', "
        "100, 13, 113, 113, 0, 1, '2026-11-30', 0)")
    invoice = ("INSERT INTO invoices (id, company_id, customer_id, invoice_date, due_date, amount, net_amount, "
               "tax_amount, open_amount, status, kind, created_by, created_at) VALUES ({id}, {company}, 1, '{day}', "
               "'2027-01-31', 10, 10, 0, 10, 'open', '{kind}', 1, '2026-11-30')")
    setup = [
        "INSERT INTO companies (id, code, segment_id, name_zh, name_en, active, created_at, updated_at) VALUES "
        "(1, 'CA', 1, 'A', 'A', 1, '2026-11-30', '2026-11-30'), (2, 'CB', 1, 'B', 'B', 1, '2026-11-30', '2026-11-30')",
        supplier_invoice.format(id=7, kind="invoice", company=1, day="2026-11-03"),
        supplier_invoice.format(id=3, kind="invoice", company=1, day="2026-12-01"),
        supplier_invoice.format(id=9, kind="credit_memo", company=1, day="2026-11-04"),
        supplier_invoice.format(id=4, kind="invoice", company=2, day="2025-12-31"),
        invoice.format(id=5, kind="invoice", company=1, day="2026-11-03"),
        invoice.format(id=2, kind="debit_note", company=1, day="2026-11-03"),
        invoice.format(id=8, kind="invoice", company=1, day="2025-06-01"),
        invoice.format(id=6, kind="invoice", company=1, day="2026-01-01"),
        "INSERT INTO payments (id, company_id, customer_id, payment_date, amount, unapplied_amount, created_by, "
        "created_at) VALUES (4, 2, 1, '2026-11-20', 5, 5, 1, '2026-11-30'), (1, 2, 1, '2026-11-21', 5, 5, 1, "
        "'2026-11-30')",
        "INSERT INTO credit_notes (id, company_id, customer_id, kind, note_date, amount, net_amount, tax_amount, "
        "unapplied_amount, reason, created_by, created_at) VALUES (3, 1, 1, 'price', '2026-11-20', 1, 1, 0, 1, 'x', "
        "1, '2026-11-30')",
        # the orders' series are left alone
        "INSERT INTO document_sequences (series, next_value) VALUES ('SO-CA-2026', 4)",
    ]
    numbers = {
        # by id, not date: 3 (1 December) was posted before 7 (3 November, back-dated)
        "supplier_invoices": [(3, "AP-CA-2026-000001"), (4, "AP-CB-2025-000001"), (7, "AP-CA-2026-000002"),
                              (9, "CM-CA-2026-000001")],
        "invoices": [(2, "DN-CA-2026-000001"), (5, "AR-CA-2026-000001"), (6, "AR-CA-2026-000002"),
                     (8, "AR-CA-2025-000001")],
        "payments": [(1, "RC-CB-2026-000001"), (4, "RC-CB-2026-000002")],
        "credit_notes": [(3, "CN-CA-2026-000001")],
    }
    _numbering_round_trip(
        engine, f"{tmp_path}/m46.sqlite3", setup, "document_number", numbers,  # type: ignore[str-format]
        series=[("AP-CA-2026", 3), ("AP-CB-2025", 2), ("AR-CA-2025", 2), ("AR-CA-2026", 3), ("CM-CA-2026", 2),
                ("CN-CA-2026", 2), ("DN-CA-2026", 2), ("RC-CB-2026", 3), ("SO-CA-2026", 4)],
        series_before=[("SO-CA-2026", 4)], downgrade_to="0045_credit_memo_applied_amount",
        refused={"UNIQUE": "UPDATE invoices SET document_number = 'AR-CA-2026-000001' WHERE id = 6",
                 "NOT NULL": "UPDATE payments SET document_number = NULL WHERE id = 1"})


def test_0046_numbers_the_documents_there_were_as_the_services_numbered_them(
        engine: Engine, session_factory: object, world: World) -> None:
    """0046's downgrade takes the numbers and their series away; upgrading numbers the
    documents again by id within company, prefix and year, which is how the services numbered
    them, and each series continues after its last."""
    import datetime as dt

    from erp.credit.models import Invoice, Payment
    from tests.credit import history_invoice, pay

    days = (dt.date(2026, 11, 3), dt.date(2025, 12, 31), dt.date(2026, 11, 1))
    for day in days:
        history_invoice(session_factory, world, "cust1", day, "10.00")  # type: ignore[arg-type]
    pay(session_factory, world, "5.00")  # type: ignore[arg-type]
    invoices = select(Invoice.id, Invoice.document_number).order_by(Invoice.id)
    with Session(engine) as session:
        before = [tuple(row) for row in session.execute(invoices)]
    assert [number for _, number in before] == ["AR-CA-2026-000001", "AR-CA-2025-000001", "AR-CA-2026-000002"]
    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0045_credit_memo_applied_amount")
    finally:
        upgrade(engine)
    with Session(engine) as session:
        assert [tuple(row) for row in session.execute(invoices)] == before
        assert session.scalars(select(Payment.document_number)).all() == ["RC-CA-2026-000001"]
    history_invoice(session_factory, world, "cust1", days[0], "10.00")  # type: ignore[arg-type]
    assert pay(session_factory, world, "5.00").document_number == "RC-CA-2026-000002"  # type: ignore[arg-type]
    with Session(engine) as session:
        assert session.scalar(select(Invoice.document_number).order_by(Invoice.id.desc()).limit(1)) == \
            "AR-CA-2026-000003"


def test_0047_round_trip_on_sqlite_numbers_existing_supplier_payments_per_company_and_year(tmp_path: object) -> None:
    """On SQLite 0047 numbers the supplier payments there are (per company and year of the
    payment date, by id), makes the column NOT NULL and unique, and sets each PV series to
    continue; its downgrade drops the column and the PV series only; upgrading again numbers
    them the same."""
    from erp.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path}/m47.sqlite3")  # type: ignore[str-format]
    upgrade(engine, "0046_document_numbers")
    payment = ("INSERT INTO supplier_payments (id, company_id, supplier_id, payment_date, amount, created_by, "
               "created_at) VALUES ({id}, {company}, 1, '{day}', 100, 1, '2026-11-30')")
    setup = [
        "INSERT INTO companies (id, code, segment_id, name_zh, name_en, active, created_at, updated_at) VALUES "
        "(1, 'CA', 1, 'A', 'A', 1, '2026-11-30', '2026-11-30'), (2, 'CB', 1, 'B', 'B', 1, '2026-11-30', '2026-11-30')",
        payment.format(id=7, company=1, day="2026-11-03"),
        payment.format(id=3, company=1, day="2026-12-01"),
        payment.format(id=9, company=1, day="2025-12-31"),
        payment.format(id=4, company=2, day="2026-11-20"),
        # the other documents' series are left alone
        "INSERT INTO document_sequences (series, next_value) VALUES ('AP-CA-2026', 4), ('RC-CA-2026', 2)",
    ]
    # by id, not date: 3 (1 December) was posted before 7 (3 November, back-dated)
    _numbering_round_trip(
        engine, f"{tmp_path}/m47.sqlite3", setup, "document_number",  # type: ignore[str-format]
        {"supplier_payments": [(3, "PV-CA-2026-000001"), (4, "PV-CB-2026-000001"), (7, "PV-CA-2026-000002"),
                               (9, "PV-CA-2025-000001")]},
        series=[("AP-CA-2026", 4), ("PV-CA-2025", 2), ("PV-CA-2026", 3), ("PV-CB-2026", 2), ("RC-CA-2026", 2)],
        series_before=[("AP-CA-2026", 4), ("RC-CA-2026", 2)], downgrade_to="0046_document_numbers",
        refused={"UNIQUE": "UPDATE supplier_payments SET document_number = 'PV-CA-2026-000001' WHERE id = 7",
                 "NOT NULL": "UPDATE supplier_payments SET document_number = NULL WHERE id = 4"})


def test_0047_numbers_the_supplier_payments_there_were_as_the_service_numbered_them(
        engine: Engine, session_factory: object, world: World) -> None:
    """0047's downgrade takes the payments' numbers and their series away; upgrading numbers
    them again by id within company and year, which is how ``pay_supplier`` numbered them, and
    each series continues after its last."""
    import datetime as dt

    from erp.payables.models import SupplierPayment
    from tests.payables import vat13_on_materials
    from tests.service.test_supplier_payment_numbers import _invoice, _pay

    vat13_on_materials(session_factory, world)  # type: ignore[arg-type]
    _invoice(session_factory, world, "A-1", on=dt.date(2025, 12, 1))  # type: ignore[arg-type]
    taken = [_pay(session_factory, world, "10.00", on=day).document_number  # type: ignore[arg-type]
             for day in (dt.date(2026, 11, 3), dt.date(2025, 12, 31), dt.date(2026, 11, 1))]
    assert taken == ["PV-CA-2026-000001", "PV-CA-2025-000001", "PV-CA-2026-000002"]
    numbers = select(SupplierPayment.id, SupplierPayment.document_number).order_by(SupplierPayment.id)
    with Session(engine) as session:
        before = [tuple(row) for row in session.execute(numbers)]
    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0046_document_numbers")
    finally:
        upgrade(engine)
    with Session(engine) as session:
        assert [tuple(row) for row in session.execute(numbers)] == before
    assert _pay(session_factory, world, "10.00").document_number == "PV-CA-2026-000003"  # type: ignore[arg-type]


def test_0049_round_trip_on_sqlite(tmp_path: object) -> None:
    """On SQLite 0049 adds reduces_line_id and swaps the line's quantity check in the table's
    text: a line without a quantity is refused unless it reduces another line's price (then
    with quantity and GR/IR 0); the downgrade puts the old check back, upgrading the new one
    once."""
    import sqlite3

    import pytest
    from sqlalchemy import text

    from erp.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path}/m49.sqlite3")  # type: ignore[str-format]
    upgrade(engine, "0049_price_reduction_lines")
    lines = "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'supplier_invoice_lines'"
    with engine.connect() as connection:
        table = connection.scalar(text(lines))
        assert table.count("ck_supplier_invoice_lines_quantity_or_price_reduction") == 1
        assert "ck_supplier_invoice_lines_quantity_positive" not in table
    insert = ("INSERT INTO supplier_invoice_lines (id, invoice_id, line_no, po_line_id, material_id, quantity, "
              "unit_price, tax_code_id, tax_rate, net_amount, tax_amount, contract_price, grir_amount, "
              "price_difference, open_received_quantity, quantity_blocked, price_blocked, reduces_line_id) VALUES "
              "({id}, 1, {id}, 1, 1, {quantity}, 2, 1, 13, 480, 62.4, 185, {grir}, 480, 0, 0, 0, {reduces})")
    raw = sqlite3.connect(f"{tmp_path}/m49.sqlite3", isolation_level=None)  # foreign keys not enforced here
    raw.execute(insert.format(id=1, quantity="240", grir="44400", reduces="NULL"))
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):  # no quantity, no line reduced
        raw.execute(insert.format(id=2, quantity="0", grir="0", reduces="NULL"))
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):  # a price reduction moves no quantity
        raw.execute(insert.format(id=2, quantity="240", grir="0", reduces="1"))
    raw.execute(insert.format(id=2, quantity="0", grir="0", reduces="1"))
    raw.execute("DELETE FROM supplier_invoice_lines")
    raw.close()
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0048_credit_limit_source")
    with engine.connect() as connection:
        table = connection.scalar(text(lines))
        assert "quantity_or_price_reduction" not in table
        assert table.count("ck_supplier_invoice_lines_quantity_positive") == 1
    upgrade(engine)
    with engine.connect() as connection:
        table = connection.scalar(text(lines))
        assert table.count("ck_supplier_invoice_lines_quantity_or_price_reduction") == 1
    engine.dispose()


def test_0048_tags_the_versions_there_were_by_where_their_value_came_from(
    engine: Engine, world: World, session_factory: sessionmaker[Session]
) -> None:
    """0048 adds credit_limits.source: an approval (the suggestion's own value) is ``model``;
    an override naming the suggestion it overrode, or a limit set without one, ``manual``."""
    import datetime as dt

    from erp.credit import limits
    from erp.credit.models import CreditLimit, CreditLimitSuggestion

    with session_factory() as session, session.begin():
        run = limits.suggest_limits(session, world.actors["credit"], as_of=dt.date(2026, 12, 15))
        suggestion = session.scalars(select(CreditLimitSuggestion).where(
            CreditLimitSuggestion.run_id == run.id, CreditLimitSuggestion.customer_id == world.customers["cust1"])).one()
        credit, customer = world.actors["credit"], world.customers["cust1"]
        limits.set_credit_limit(session, credit, customer, suggestion_id=suggestion.id)  # 1: approval
        limits.set_credit_limit(session, credit, customer, suggestion_id=suggestion.id, credit_limit=D("30000"),
                                reason="override")  # 2
        limits.set_credit_limit(session, credit, customer, credit_limit=D("40000"), reason="own")  # 3
    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0047_supplier_payment_numbers")
        upgrade(engine)
        with Session(engine) as session:
            found = session.execute(select(CreditLimit.version, CreditLimit.source).order_by(CreditLimit.version)).all()
        assert [(version, source.value) for version, source in found] == [(1, "model"), (2, "manual"), (3, "manual")]
    finally:
        upgrade(engine)
