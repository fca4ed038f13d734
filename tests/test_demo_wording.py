"""The demo reads like a Chinese group's real data: batch numbers as a supplier's batch reads
(never starting with a dash), every reason a person typed in Chinese, and each customer's
credit data giving the type its name says (K0005, a pharmacy chain, is no "other")."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.credit.models import CreditLimit, CustomerCreditProfile
from erp.credit.scorecard import CustomerType
from erp.demo.loader import load_demo
from erp.masterdata.models import Customer
from erp.posting.models import Batch, MovementType, StockDocument
from erp.purchasing.models import Contract, PurchaseOrder, PurchasingException

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def test_the_demo_reads_like_real_chinese_data(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        load_demo(session, seed=7)
    with session_factory() as session:
        batches = session.scalars(select(Batch.batch_number)).all()
        assert batches and all(re.fullmatch(r"[A-Z0-9]+[A-Z0-9-]*", b) for b in batches), \
            [b for b in batches if not re.fullmatch(r"[A-Z0-9]+[A-Z0-9-]*", b)][:5]
        assert not [b for b in batches if b.startswith("DEMO")]

        reasons = {
            "limit history": session.scalars(select(CreditLimit.reason)).all(),
            # the counts the demo typed (quality's release writes its own words: not the demo's)
            "stock counts": session.scalars(select(StockDocument.reason)
                                            .where(StockDocument.doc_type == MovementType.ADJUSTMENT)).all(),
            "orders": session.scalars(select(PurchaseOrder.status_reason)
                                      .where(PurchaseOrder.status_reason.is_not(None))).all(),
            "exceptions": session.scalars(select(PurchasingException.reason)).all(),
            "contracts": session.scalars(select(Contract.termination_reason)
                                         .where(Contract.termination_reason.is_not(None))).all(),
            "credit data": session.scalars(select(CustomerCreditProfile.reason)).all(),
        }
        for kind, texts in reasons.items():
            assert texts, kind
            english = sorted({t for t in texts if t and not CHINESE.search(t)})
            assert not english, (kind, english)

        types = dict(session.execute(
            select(Customer.code, CustomerCreditProfile.customer_type)
            .join(CustomerCreditProfile, CustomerCreditProfile.customer_id == Customer.id)).all())
        names = dict(session.execute(select(Customer.code, Customer.name_zh)).all())
        assert set(types) == set(names)  # every customer has its credit data
        assert types["K0005"] == CustomerType.PHARMACY_CHAIN and "大药房" in names["K0005"]
        for code, name in names.items():
            expected = (CustomerType.HOSPITAL if name.endswith(("医院", "保健院")) else
                        CustomerType.PHARMACY_CHAIN if "大药房" in name else
                        CustomerType.DISTRIBUTOR if name.endswith("医药有限公司") or "医药物流" in name else
                        CustomerType.OTHER)
            assert types[code] == expected, (code, name, types[code])
