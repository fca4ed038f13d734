"""Intercompany trade: company A sells to company B of the group through B's customer
record, against B's purchase order placed with A's supplier record; the group's figures
eliminate it, the companies' own books keep it. Figures worked out by hand in each test.

The case (issue #17): A sells 1,000 kg to B at 80.00 (A's standard 60.00); B receives them at
its own standard 78.00 and uses 600 kg in production in November, so it still holds 400 kg at
month end. The sale is at the zero VAT rate so that A's receivable and B's goods received not
invoiced (net, until B books A's invoice with its input VAT) are the same 80,000.00.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.costing.reports import trial_balance
from erp.consolidation import eliminations as intercompany
from erp.credit import receivables, services
from erp.credit.errors import IntercompanyOrderInvalid
from erp.inventory.services import IssueDestination
from erp.masterdata import services as masterdata
from erp.credit.models import SalesOrder
from erp.masterdata.models import Customer, Material, Supplier
from erp.purchasing import orders as purchasing_orders
from erp.purchasing.errors import OrderHasGoodsInTransit
from erp.purchasing.models import PurchaseOrderLine, PurchaseOrderStatus
from tests.credit import NOV, POLICY, new_order, put_stock, ship
from tests.stock import issue, open_order, receive, set_standard
from tests.tax import create_china_vat
from tests.world import USCC_COMPANY_A, USCC_COMPANY_B, World

SF = sessionmaker[Session]
NOV_21 = dt.date(2026, 11, 21)
NOV_25 = dt.date(2026, 11, 25)


def link_companies(session_factory: SF, world: World) -> None:
    """Give A a supplier record and B a customer record in the group master, linked to them
    (by an administrator, through the master-data service, so the link is audited)."""
    with session_factory() as session, session.begin():
        supplier = Supplier(code="S-CA", uscc=USCC_COMPANY_A, name_zh="甲公司", name_en="Company A")
        customer = Customer(code="K-CB", uscc=USCC_COMPANY_B, name_zh="乙公司", name_en="Company B",
                            payment_terms_days=60)
        session.add_all([supplier, customer])
        session.flush()
        admin = world.actors["admin"]
        masterdata.update_record(session, admin, masterdata.COMPANIES, world.companies["A"],
                                 {"supplier_id": supplier.id}, reason="intercompany trade")
        masterdata.update_record(session, admin, masterdata.COMPANIES, world.companies["B"],
                                 {"customer_id": customer.id}, reason="intercompany trade")
        world.suppliers["company_a"] = supplier.id
        world.customers["company_b"] = customer.id


def intercompany_sale(session_factory: SF, world: World, *, quantity: str = "1000",
                      receive_on: dt.date | None = NOV_21) -> tuple[int, int]:
    """B orders 1,000 kg from A at 80.00; A takes the order against B's line and ships it on
    20 November; B receives it (unless ``receive_on`` is None). Returns (sales order, B's line)."""
    link_companies(session_factory, world)
    put_stock(session_factory, world, company="A", quantity="1000", standard="60.00")
    set_standard(session_factory, world, "exc_local", "78.00", company="B")
    (po_line,) = open_order(session_factory, world, [("exc_local", quantity, "80.00", "B-AMB")], company="B",
                            supplier="company_a")
    with session_factory() as session, session.begin():
        order = services.create_order(
            session, world.actors["sales_a"], company_id=world.companies["A"],
            customer_id=world.customers["company_b"], order_date=dt.date(2026, 11, 3),
            lines=[services.OrderLineRequest(world.materials["exc_local"], world.warehouses["A-AMB"], D(quantity),
                                             D("80.00"), partner_po_line_id=po_line,
                                             tax_code_id=create_china_vat(session_factory, world)["VAT0"])]).order
        assert order.partner_company_id == world.companies["B"]
        services.confirm_order(session, world.actors["sales_a"], order.id, policy=POLICY)
        shipped = services.ship_order(session, world.actors["sales_a"], order.id, posting_date=NOV, policy=POLICY,
                                      lines=[services.ShipmentLineRequest(order.lines[0].id, D(quantity))])
        assert shipped.invoice.partner_company_id == world.companies["B"]
        order_id = order.id
    if receive_on is not None:
        receive(session_factory, world, po_line, quantity, batch="IC-0001", user="clerk_b", warehouse="B-AMB",
                on=receive_on)
    return order_id, po_line


def _lines(report: intercompany.ConsolidatedTrialBalance) -> dict[str, tuple[D, D, D]]:
    """Per line: (companies' balance, elimination, consolidated), signed (debit positive)."""
    return {line["account_code"]: (line["debit"] - line["credit"], line["elimination_debit"] - line["elimination_credit"],
                                   line["consolidated_debit"] - line["consolidated_credit"]) for line in report.lines}


def test_group_trial_balance_eliminates_intercompany_sale_and_unrealised_profit(
    session_factory: SF, world: World
) -> None:
    intercompany_sale(session_factory, world)
    issue(session_factory, world, "exc_local", "600", warehouse="B-AMB", user="clerk_b", on=NOV_25)

    with session_factory() as session:
        own_before = {key: trial_balance(session, world.actors["cost_group"], company_id=world.companies[key],
                                         period="2026-11").lines for key in ("A", "B")}
        report = intercompany.consolidated_trial_balance(session, world.actors["cio"], period="2026-11")
        own_after = {key: trial_balance(session, world.actors["cost_group"], company_id=world.companies[key],
                                        period="2026-11").lines for key in ("A", "B")}
    lines = _lines(report)
    # A: Dr 1122 80,000 / Cr 6001 80,000; Dr 6401 60,000 / Cr 1403 60,000 (1,000 x 60.00), after its
    #    own receipt of the 1,000 kg (Dr 1403 60,000 / Cr 2202.01 60,000).
    # B: Dr 1403 78,000 + Dr 1404 2,000 / Cr 2202.01 80,000 (1,000 x 78.00 standard, 80.00 contract);
    #    Dr 5001 46,800 / Cr 1403 46,800 (600 x 78.00).
    assert report.intercompany_revenue == D("80000.00")
    assert report.intercompany_receivables == D("80000.00")  # A's receivable from B
    assert report.intercompany_payables == D("80000.00")  # B's goods received from A, not invoiced
    assert report.unrealised_profit == D("8000.00")  # 400 x (80.00 - 60.00)
    assert report.in_transit == D("0.00")
    assert lines["6001"] == (D("-80000.00"), D("80000.00"), D("0.00"))  # A's revenue gone
    assert lines["1122"] == (D("80000.00"), D("-80000.00"), D("0.00"))  # A's receivable gone
    # 2202.01: A's own 60,000 from its outside supplier stays; B's 80,000 from A goes
    assert lines["2202.01"] == (D("-140000.00"), D("80000.00"), D("-60000.00"))
    # A's cost of the goods (60,000) and its margin on the 600 kg B used (600 x 20.00 = 12,000)
    assert lines["6401"] == (D("60000.00"), D("-60000.00"), D("0.00"))
    assert lines["5001"] == (D("46800.00"), D("-12000.00"), D("34800.00"))
    assert lines[intercompany.UNREALISED_PROFIT] == (D("0.00"), D("-8000.00"), D("-8000.00"))
    assert intercompany.IN_TRANSIT not in lines
    # stock the group holds: B's 400 kg at 78.00 = 31,200 (+ its variance 2,000, 1,200 of it on the
    # 600 used until the close), less 8,000 unrealised: at A's cost 400 x 60 = 24,000 after the close
    assert lines["1403"][2] == D("31200.00") and lines["1404"][2] == D("2000.00")
    totals = report.totals
    assert (totals["debit"], totals["credit"]) == (D("220000.00"), D("220000.00"))
    # eliminations: Dr 6001 80,000 + Dr 2202.01 80,000; Cr 1122 80,000 + 6401 60,000 + 5001 12,000 + 8,000
    assert totals["elimination_debit"] == totals["elimination_credit"] == D("160000.00")
    # consolidated: Dr 1403 31,200 + 1404 2,000 + 5001 34,800; Cr 2202.01 60,000 + unrealised 8,000
    assert totals["consolidated_debit"] == totals["consolidated_credit"] == D("68000.00")
    assert report.balanced
    assert own_before == own_after  # the companies' own books are untouched
    (line,) = report.trade
    assert (line.shipped_quantity, line.received_quantity, line.held_quantity, line.unit_margin) == (
        D("1000"), D("1000"), D("400"), D("20"))


def test_goods_in_transit_are_the_difference_until_the_buyer_receives(session_factory: SF, world: World) -> None:
    """Shipped on 20 November, not received by the month's end: A's receivable of 80,000 has no
    payable against it; the group holds the goods in transit at A's cost, 1,000 x 60.00."""
    intercompany_sale(session_factory, world, receive_on=None)
    with session_factory() as session:
        report = intercompany.consolidated_trial_balance(session, world.actors["cio"], period="2026-11")
        (line,) = intercompany.trade_lines(session, world.actors["cio"], as_of=NOV)
    lines = _lines(report)
    assert (line.in_transit_quantity, line.in_transit_value) == (D("1000"), D("80000.00"))
    assert report.unrealised_profit == D("20000.00")  # 1,000 in transit x 20.00
    assert lines[intercompany.IN_TRANSIT] == (D("0.00"), D("80000.00"), D("80000.00"))
    assert lines[intercompany.UNREALISED_PROFIT][2] == D("-20000.00")  # 80,000 - 20,000 = 60,000 at A's cost
    assert lines["6401"] == (D("60000.00"), D("-60000.00"), D("0.00"))
    assert report.balanced


def test_cio_consolidated_receivables_leave_out_the_group_company(session_factory: SF, world: World) -> None:
    intercompany_sale(session_factory, world)
    with session_factory() as session:
        cio = world.actors["cio"]
        customers, _ = receivables.receivables_by_customer(session, cio, as_of=NOV, policy=POLICY)
        board = receivables.dashboard(session, cio, as_of=NOV, policy=POLICY)
    assert world.customers["company_b"] not in {row.customer_id for row in customers}
    assert board.totals["open_amount"] == D("0.00")
    assert board.totals["intercompany_open"] == D("80000.00")  # shown beside, in A's own books
    (company_a,) = [row for row in board.by_company if row.company_id == world.companies["A"]]
    assert (company_a.open_amount, company_a.intercompany_open) == (D("0.00"), D("80000.00"))
    assert all(row.customer_id != world.customers["company_b"] for row in board.top_customers)


def test_an_intercompany_order_must_fill_the_buyers_purchase_order_at_its_price(
    session_factory: SF, world: World
) -> None:
    link_companies(session_factory, world)
    create_china_vat(session_factory, world)
    (po_line,) = open_order(session_factory, world, [("exc_local", "100", "80.00", "B-AMB")], company="B",
                            supplier="company_a")
    (other_supplier_line,) = open_order(session_factory, world, [("exc_local", "100", "80.00", "B-AMB")],
                                        company="B", supplier="sup1")

    def order(price: str, quantity: str = "100", line: int | None = po_line, company: str = "A",
              customer: str = "company_b") -> None:
        with session_factory() as session, session.begin():
            services.create_order(
                session, world.actors[f"sales_{company.lower()}"], company_id=world.companies[company],
                customer_id=world.customers[customer], order_date=NOV,
                lines=[services.OrderLineRequest(world.materials["exc_local"], world.warehouses[f"{company}-AMB"],
                                                 D(quantity), D(price), partner_po_line_id=line,
                                                 tax_code_id=world.tax_codes["VAT0"])])

    for attempt in (lambda: order("80.00", line=None), lambda: order("79.00"), lambda: order("80.00", "101"),
                    lambda: order("80.00", line=other_supplier_line), lambda: order("80.00", customer="cust1")):
        with pytest.raises(IntercompanyOrderInvalid):
            attempt()
    order("80.00", "60")
    with pytest.raises(IntercompanyOrderInvalid):
        order("80.00", "41")  # 60 are on the first order: 40 are left
    order("80.00", "40")


def test_the_buyers_invoice_and_payment_to_the_group_supplier_are_eliminated_not_its_receipt_twice(
    session_factory: SF, world: World
) -> None:
    """Trial finding 130: once B books A's invoice (clearing its GR/IR) and pays part of it, B's
    payable to A is on 2202, not 2202.01. The elimination takes B's balances with A off both
    accounts, whatever posted them: receipt (Cr 2202.01 80,000), invoice (Dr 2202.01 80,000 /
    Cr 2202 80,000), payment (Dr 2202 30,000 / Cr 1002 30,000). A received the 30,000 against
    its invoice (Dr 1002 / Cr 1122): A's receivable 50,000 and B's payable 50,000 eliminate,
    nothing is left in transit, and A's own GR/IR of 60,000 from its outside supplier stays."""
    from erp.payables import services as payables
    from tests.credit import pay
    from tests.payables import enter

    intercompany_sale(session_factory, world)
    with session_factory() as session, session.begin():  # A sold at the zero rate: its invoice to B is too
        session.get(Material, world.materials["exc_local"]).default_tax_code_id = world.tax_codes["VAT0"]
    bill = enter(session_factory, world, "A-INV-1", [(_bs_line(session_factory, world), "1000", "80.00")],
                 net="80000.00", tax="0.00", on=NOV_25, user="ap_b", supplier="company_a", company="B")
    with session_factory() as session, session.begin():
        payables.pay_supplier(session, world.actors["ap_b"], payables.PaymentRequest(
            company_id=world.companies["B"], supplier_id=world.suppliers["company_a"], payment_date=NOV_25,
            amount=D("30000.00"), invoice_ids=[bill]))
    pay(session_factory, world, "30000.00", day=NOV_25, customer="company_b")
    with session_factory() as session:
        report = intercompany.consolidated_trial_balance(session, world.actors["cio"], period="2026-11")
    lines = _lines(report)
    assert report.intercompany_receivables == D("50000.00")  # A's 80,000 less the 30,000 received
    assert report.intercompany_payables == D("50000.00")  # B's 80,000 invoiced less the 30,000 paid
    assert report.in_transit == D("0.00") and intercompany.IN_TRANSIT not in lines
    assert lines["1122"] == (D("50000.00"), D("-50000.00"), D("0.00"))
    # B's GR/IR from A: Cr 80,000 (receipt) + Dr 80,000 (invoice) = 0, nothing to eliminate there;
    # A's own 60,000 from its outside supplier stays
    assert lines["2202.01"] == (D("-60000.00"), D("0.00"), D("-60000.00"))
    assert lines["2202"] == (D("-50000.00"), D("50000.00"), D("0.00"))  # owed within the group only
    assert "1002" not in lines  # A +30,000, B -30,000: the cash nets to nothing and is not eliminated
    assert report.balanced


def _bs_line(session_factory: SF, world: World) -> int:
    """B's purchase order line that A's intercompany order filled."""
    from erp.credit.models import SalesOrderLine

    with session_factory() as session:
        return session.scalars(select(SalesOrderLine.partner_po_line_id)
                               .where(SalesOrderLine.partner_po_line_id.is_not(None))).one()


def test_every_journal_source_of_payables_is_traced_to_its_supplier() -> None:
    """The elimination finds a supplier's balances through the document each journal entry
    names (erp.payables.services.supplier_entries): a new kind of payables entry must be
    listed there, or its balances with group suppliers would stay in the group's figures."""
    from erp.payables import services as payables

    sources = {value for name, value in vars(payables).items() if name.startswith("SOURCE_")}
    assert sources == set(payables.INVOICE_SOURCES) | set(payables.PAYMENT_SOURCES)


def one_batch_on_two_lines(session_factory: SF, world: World) -> tuple[int, int]:
    """A ships 300 kg on one line of an order and 500 kg on another (80.00, A's standard 60.00);
    B receives the 300 on 21 November and 300 of the 500 on 22 November, both into its one
    batch IC-0001 (200 kg stay in transit). Returns B's two purchase order lines."""
    link_companies(session_factory, world)
    put_stock(session_factory, world, company="A", quantity="1000", standard="60.00")
    set_standard(session_factory, world, "exc_local", "78.00", company="B")
    first, second = open_order(session_factory, world, [("exc_local", "300", "80.00", "B-AMB"),
                                                        ("exc_local", "500", "80.00", "B-AMB")],
                               company="B", supplier="company_a")
    vat0 = create_china_vat(session_factory, world)["VAT0"]
    with session_factory() as session, session.begin():
        order = services.create_order(
            session, world.actors["sales_a"], company_id=world.companies["A"],
            customer_id=world.customers["company_b"], order_date=dt.date(2026, 11, 3),
            lines=[services.OrderLineRequest(world.materials["exc_local"], world.warehouses["A-AMB"], D(quantity),
                                             D("80.00"), partner_po_line_id=po_line, tax_code_id=vat0)
                   for po_line, quantity in ((first, "300"), (second, "500"))]).order
        services.confirm_order(session, world.actors["sales_a"], order.id, policy=POLICY)
        services.ship_order(session, world.actors["sales_a"], order.id, posting_date=NOV, policy=POLICY,
                            lines=[services.ShipmentLineRequest(line.id, line.quantity) for line in order.lines])
    receive(session_factory, world, first, "300", batch="IC-0001", user="clerk_b", warehouse="B-AMB", on=NOV_21)
    receive(session_factory, world, second, "300", batch="IC-0001", user="clerk_b", warehouse="B-AMB",
            on=dt.date(2026, 11, 22))
    return first, second


def test_a_batch_received_on_two_lines_is_held_and_consumed_once_first_in_first_out(
    session_factory: SF, world: World
) -> None:
    """Trial finding 143: a batch the buyer received on two intercompany lines was counted once
    per line, each capped only by its own receipt. A ships 300 kg on one line and 500 kg on
    another (both at 80.00, standard 60.00: margin 20.00); B receives the 300 (21 November) and
    300 of the 500 (22 November) into the one batch IC-0001, issues 100 kg to production
    (25 November) and 250 kg to a cost centre (26 November), and holds 250 kg at month end.

    First in, first out: the 350 kg gone come off the first line's 300 kg, then 50 kg of the
    second's; the first line holds nothing, the second 250 kg (not 250 + 250). The 100 kg issued
    to production are the first line's (5001: 100 x 20.00 = 2,000); of the 250 kg to the cost
    centre 200 are the first line's and 50 the second's (5101: 250 x 20.00 = 5,000, not twice).
    Unrealised: (250 held + 200 in transit) x 20.00 = 9,000.00 (the old count: 14,000.00)."""
    first, second = one_batch_on_two_lines(session_factory, world)
    issue(session_factory, world, "exc_local", "100", warehouse="B-AMB", user="clerk_b", on=NOV_25)
    issue(session_factory, world, "exc_local", "250", warehouse="B-AMB", user="clerk_b", on=dt.date(2026, 11, 26),
          destination=IssueDestination.COST_CENTER, cost_center="QC-LAB")

    with session_factory() as session:
        report = intercompany.consolidated_trial_balance(session, world.actors["cio"], period="2026-11")
    trade = {line.po_line_id: line for line in report.trade}
    one, two = trade[first], trade[second]
    assert (one.shipped_quantity, one.received_quantity, one.held_quantity, one.in_transit_quantity) == (
        D("300"), D("300"), D("0"), D("0"))
    assert (two.shipped_quantity, two.received_quantity, two.held_quantity, two.in_transit_quantity) == (
        D("500"), D("300"), D("250"), D("200"))
    assert one.consumed == {"5001": D("100"), "5101": D("200")}
    assert two.consumed == {"5101": D("50")}
    assert (one.unrealised_profit, two.unrealised_profit) == (D("0.00"), D("9000.00"))  # (250 + 200) x 20.00
    assert report.unrealised_profit == D("9000.00")
    assert report.intercompany_revenue == D("64000.00")  # 800 x 80.00
    assert report.in_transit == D("16000.00")  # A's receivable 64,000 less B's GR/IR 48,000 (600 x 80.00)
    lines = _lines(report)
    # A: Dr 1122 64,000 / Cr 6001 64,000; Dr 6401 48,000 / Cr 1403 48,000 (800 x 60.00).
    # B: Dr 1403 46,800 + 1404 1,200 / Cr 2202.01 48,000; Dr 5001 7,800 (100 x 78.00) and
    #    Dr 5101 19,500 (250 x 78.00) / Cr 1403 27,300.
    assert lines["6001"] == (D("-64000.00"), D("64000.00"), D("0.00"))
    # A's cost of the 800 kg; the rest of the cost side, 64,000 - 9,000 - 48,000 - 7,000, is nothing
    assert lines["6401"] == (D("48000.00"), D("-48000.00"), D("0.00"))
    assert lines["5001"] == (D("7800.00"), D("-2000.00"), D("5800.00"))  # 100 x 20.00 realised
    assert lines["5101"] == (D("19500.00"), D("-5000.00"), D("14500.00"))  # 250 x 20.00 realised
    assert lines[intercompany.UNREALISED_PROFIT] == (D("0.00"), D("-9000.00"), D("-9000.00"))
    assert lines[intercompany.IN_TRANSIT] == (D("0.00"), D("16000.00"), D("16000.00"))
    # the group holds B's 250 kg at 78.00 (19,500, + 1,200 variance until B's close) and A's
    # 200 kg in transit (16,000 at 80.00) and its own 200 kg (12,000): at A's cost after the
    # close, 250 x 60 + 200 x 60 + 12,000 = 39,000 = 31,500 + 1,200 - 700 (variance on the 350
    # used) + 16,000 - 9,000
    totals = report.totals
    assert (totals["debit"], totals["credit"]) == (D("172000.00"), D("172000.00"))
    # Dr 6001 64,000 + 2202.01 48,000 + transit 16,000; Cr 1122 64,000 + 6401 48,000 + 5001 2,000
    # + 5101 5,000 + unrealised 9,000
    assert totals["elimination_debit"] == totals["elimination_credit"] == D("128000.00")
    # Dr 1403 31,500 + 1404 1,200 + 5001 5,800 + 5101 14,500 + transit 16,000; Cr 2202.01 60,000
    # + unrealised 9,000
    assert totals["consolidated_debit"] == totals["consolidated_credit"] == D("69000.00")
    assert report.balanced


def test_the_buyers_sale_outside_realises_the_margin_of_a_batch_received_on_two_lines_once(
    session_factory: SF, world: World
) -> None:
    """Trial finding 143 as found: B sells 100 kg of the batch to an outside customer and holds
    500 kg. The first line's 100 kg are the ones sold: it holds 200 kg, the second 300 kg (not
    300 + 300). Unrealised: (500 held + 200 in transit) x 20.00 = 14,000.00; the 100 kg sold
    realise 2,000.00 of A's margin on B's cost of goods sold, which the elimination takes off
    6401 with A's cost of the 800 kg (48,000.00): 50,000.00."""
    first, second = one_batch_on_two_lines(session_factory, world)
    sale = new_order(session_factory, world, company="B", lines=(("100", "100.00"),), confirm=True)
    ship(session_factory, world, sale.order.id, ["100"], company="B", day=NOV_25)
    with session_factory() as session:
        report = intercompany.consolidated_trial_balance(session, world.actors["cio"], period="2026-11")
    trade = {line.po_line_id: line for line in report.trade}
    assert (trade[first].held_quantity, trade[second].held_quantity) == (D("200"), D("300"))
    assert trade[first].consumed == {"6401": D("100")} and trade[second].consumed == {}
    assert report.unrealised_profit == D("14000.00")
    lines = _lines(report)
    # 6401: A's 48,000 (800 x 60.00) and B's 7,800 (100 x 78.00); eliminated: A's 48,000 and the
    # 2,000 of A's margin in B's 7,800; 5,800 + 200 of B's variance after its close = 100 x 60.00
    assert lines["6401"] == (D("55800.00"), D("-50000.00"), D("5800.00"))
    assert lines["6001"][2] == D("-10000.00")  # B's sale outside, 100 x 100.00, only
    assert lines[intercompany.UNREALISED_PROFIT] == (D("0.00"), D("-14000.00"), D("-14000.00"))
    assert report.balanced


def _ic_order(session_factory: SF, world: World, po_line: int, quantity: str) -> int:
    with session_factory() as session, session.begin():
        return services.create_order(
            session, world.actors["sales_a"], company_id=world.companies["A"],
            customer_id=world.customers["company_b"], order_date=NOV,
            lines=[services.OrderLineRequest(world.materials["exc_local"], world.warehouses["A-AMB"], D(quantity),
                                             D("80.00"), partner_po_line_id=po_line,
                                             tax_code_id=world.tax_codes["VAT0"])]).order.id


def test_an_intercompany_order_fills_no_more_than_the_buyers_line_can_still_receive(
    session_factory: SF, world: World
) -> None:
    """Trial finding 134: B's imported open order (500 ordered, 200 received in the old
    system, 0 % tolerance) can receive 300 more; A's order for 500 is refused, naming the
    order by its number and line, and 300 are accepted."""
    link_companies(session_factory, world)
    create_china_vat(session_factory, world)
    (po_line,) = open_order(session_factory, world, [("exc_local", "500", "80.00", "B-AMB")], company="B",
                            supplier="company_a", number="PO-B-2026-000001")
    with session_factory() as session, session.begin():
        line = session.get(PurchaseOrderLine, po_line)
        assert line is not None
        line.received_quantity = D("200")  # as the go-live import of open orders records it
        line.order.status = PurchaseOrderStatus.PARTIALLY_RECEIVED
    with pytest.raises(IntercompanyOrderInvalid) as refused:
        _ic_order(session_factory, world, po_line, "500")
    detail = str(refused.value.message)
    assert "PO-B-2026-000001 line 1" in detail and "received 200" in detail and "at most 300" in detail
    assert refused.value.status == 422 and refused.value.slug == "intercompany-order-invalid"
    assert refused.value.errors[0]["pointer"] == "/lines/0/quantity"
    with pytest.raises(IntercompanyOrderInvalid):
        _ic_order(session_factory, world, po_line, "301")
    _ic_order(session_factory, world, po_line, "300")
    with pytest.raises(IntercompanyOrderInvalid) as full:
        _ic_order(session_factory, world, po_line, "1")
    assert "at most 0" in str(full.value.message)


def test_goods_received_from_another_intercompany_order_are_not_counted_twice(
    session_factory: SF, world: World
) -> None:
    """A's first order (300 of B's 500, 2 % over-receipt tolerance: 510 receivable) shipped
    and received: B's line has received 300 and the first order delivers nothing more, so 210
    are left (not 510 - 300 - 300), within the tolerance as the receipt allows it."""
    link_companies(session_factory, world)
    with session_factory() as session, session.begin():
        material = session.get(Material, world.materials["exc_local"])
        assert material is not None
        material.over_receipt_tolerance_pct = D("2")
    create_china_vat(session_factory, world)
    put_stock(session_factory, world, company="A", quantity="1000", standard="60.00")
    set_standard(session_factory, world, "exc_local", "78.00", company="B")
    (po_line,) = open_order(session_factory, world, [("exc_local", "500", "80.00", "B-AMB")], company="B",
                            supplier="company_a")
    first = _ic_order(session_factory, world, po_line, "300")
    with pytest.raises(IntercompanyOrderInvalid):
        _ic_order(session_factory, world, po_line, "211")  # 300 still to come from the first order
    with session_factory() as session, session.begin():
        services.confirm_order(session, world.actors["sales_a"], first, policy=POLICY)
        order = session.get(SalesOrder, first)
        assert order is not None
        services.ship_order(session, world.actors["sales_a"], first, posting_date=NOV, policy=POLICY,
                            lines=[services.ShipmentLineRequest(order.lines[0].id, D("300"))])
    receive(session_factory, world, po_line, "300", batch="IC-0001", user="clerk_b", warehouse="B-AMB", on=NOV_21)
    with pytest.raises(IntercompanyOrderInvalid) as refused:
        _ic_order(session_factory, world, po_line, "211")
    assert "at most 210" in str(refused.value.message), str(refused.value.message)
    _ic_order(session_factory, world, po_line, "210")


def test_the_buyer_cannot_cancel_or_close_an_order_whose_group_shipment_is_not_yet_received(
    session_factory: SF, world: World
) -> None:
    """Trial finding 135: A shipped 1,000 kg against B's order; until B receives them, B can
    neither cancel nor close the order (the goods could never be received: in transit for
    good). Once received, B closes it."""
    order_id, po_line = intercompany_sale(session_factory, world, receive_on=None)
    with session_factory() as session:
        sales_number = session.get(SalesOrder, order_id).number  # type: ignore[union-attr]
        po = session.get(PurchaseOrderLine, po_line).order  # type: ignore[union-attr]
        po_id, po_number = po.id, po.number
    for end in (purchasing_orders.cancel_order, purchasing_orders.close_order):
        with session_factory() as session, session.begin(), pytest.raises(OrderHasGoodsInTransit) as refused:
            end(session, world.actors["buyer_b"], po_id, "需求取消")
        assert refused.value.status == 409 and refused.value.slug == "order-has-goods-in-transit"
        detail = str(refused.value.message)
        assert f"sales order {sales_number}" in detail and f"{po_number} line 1" in detail, detail
        assert detail.startswith("1000 shipped"), detail
        assert refused.value.errors[0]["pointer"] == "/lines/0"
    receive(session_factory, world, po_line, "1000", batch="IC-0001", user="clerk_b", warehouse="B-AMB", on=NOV_21)
    with session_factory() as session, session.begin():
        closed = purchasing_orders.close_order(session, world.actors["buyer_b"], po_id, "received in full")
        assert closed.status == PurchaseOrderStatus.CLOSED
