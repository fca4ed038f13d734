"""China VAT codes for tests: the six statutory codes, created as a steward would (audited)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from erp.masterdata import services
from erp.masterdata.tax import CHINA_VAT, CHINA_VAT_SINCE
from tests.world import World


def create_china_vat(session_factory: sessionmaker[Session], world: World) -> dict[str, int]:
    """VAT13, VAT9, VAT6, VAT3, VAT0, VATEX in force since 2019-04-01: code -> id (made once
    per world; ``world.tax_codes`` keeps them)."""
    if world.tax_codes:
        return world.tax_codes
    codes: dict[str, int] = {}
    with session_factory() as session, session.begin():
        for code, name_zh, name_en, kind, rate in CHINA_VAT:
            record = services.create_record(session, world.actors["steward"], services.TAX_CODES, {
                "code": code, "name_zh": name_zh, "name_en": name_en, "kind": kind, "rate": rate,
                "valid_from": CHINA_VAT_SINCE, "valid_to": None})
            codes[code] = record.id
    world.tax_codes.update(codes)
    return codes
