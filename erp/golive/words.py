"""The words a spreadsheet carries for coded values (finding 116): the Chinese a user writes
(已审核, 待检, 原料, 集中采购) beside the codes (open, quarantine, raw, central).

Each coded column of an import names its enum; a cell is read as the member whose code, page
label (erp.ui.labels, in English and in Chinese: what the pages and the exports show) or one
of the usual synonyms of the old systems it matches, case and spaces aside. What an export
writes for a member (its Chinese label) therefore loads back as that member.
"""

from __future__ import annotations

import functools
import re
from enum import Enum
from pathlib import Path
from typing import Any

from babel import support

from erp.masterdata.models import MaterialType, ProcurementScope
from erp.posting.models import StockStatus
from erp.purchasing.models import PurchaseOrderStatus

# Words of the old systems beside the pages' own labels.
SYNONYMS: dict[Enum, tuple[str, ...]] = {
    MaterialType.RAW: ("原料", "原材料", "原辅料"),
    MaterialType.PACKAGING: ("包材", "包装材料", "包装物"),
    MaterialType.INTERMEDIATE: ("中间体", "中间品", "半成品"),
    MaterialType.FINISHED: ("成品", "产成品", "库存商品"),
    MaterialType.TRADE: ("外购商品", "商品", "贸易商品"),
    ProcurementScope.CENTRAL: ("集中采购", "集团集中采购", "集采", "集团采购"),
    ProcurementScope.LOCAL: ("自主采购", "公司自行采购", "自行采购", "自采", "本地采购"),
    StockStatus.UNRESTRICTED: ("非限制", "非限制使用", "合格", "可用", "正常"),
    StockStatus.QUARANTINE: ("待检", "隔离", "待检隔离", "待验", "检验中"),
    StockStatus.BLOCKED: ("冻结", "不合格", "限制使用"),
    # An order approved in the old system and not fully received is open (未清).
    PurchaseOrderStatus.OPEN: ("已审核", "已审批", "已批准", "审核", "批准", "审核通过", "已下达", "下达", "未清",
                               "未完成", "未结", "执行中", "approved", "released"),
    PurchaseOrderStatus.PARTIALLY_RECEIVED: ("部分收货", "部分入库", "部分到货"),
    PurchaseOrderStatus.DRAFT: ("草稿", "未审核", "制单"),
    PurchaseOrderStatus.PENDING_APPROVAL: ("待审批", "审批中", "待审核"),
    PurchaseOrderStatus.RECEIVED: ("已收货", "全部收货", "已入库", "已完成"),
    PurchaseOrderStatus.CLOSED: ("已关闭", "关闭", "已结清", "已结"),
    PurchaseOrderStatus.CANCELLED: ("已取消", "取消", "作废", "已作废"),
}


def normal(word: str) -> str:
    return re.sub(r"\s+", " ", str(word)).strip().casefold()


def label_of(member: Enum) -> str:
    """The English label the pages give a member (a message id), else its code."""
    from erp.ui.labels import LABELS  # the labels import the enums of every module

    return LABELS.get(member, str(member.value))


@functools.cache
def translation(lang: str) -> support.Translations:
    """The catalogue of a language, outside a request (the exports' words and narrations)."""
    return support.Translations.load(str(Path(__file__).resolve().parent.parent / "translations"), [lang])


def word_of(member: Enum, lang: str = "zh") -> str:
    """What a file shows for a member: its page label in ``lang`` (what the exports write)."""
    return translation(lang).gettext(label_of(member)) if lang == "zh" else label_of(member)


@functools.cache
def words_of(enum: type[Enum]) -> dict[str, str]:
    """Every word read as a member of ``enum`` (normalised) -> the member's code."""
    found: dict[str, str] = {}
    for member in enum:
        for word in (str(member.value), member.name, label_of(member), word_of(member, "zh"),
                     *SYNONYMS.get(member, ())):
            found.setdefault(normal(word), str(member.value))
    return found


def read_word(enum: type[Enum], text: Any) -> Any:
    """A cell's text as the code of the member it names (the text as it was when it names none:
    the schema then refuses it with the choices)."""
    if not isinstance(text, str):
        return text
    return words_of(enum).get(normal(text), text)
