"""The group's default chart of accounts (codes after the Chinese enterprise standards).

The same chart serves every company; journal lines carry the company. The migration
that creates the ``accounts`` table inserts these rows.
"""

from __future__ import annotations

from erp.masterdata.models import MaterialType

BANK = "1002"  # 银行存款
RECEIVABLES = "1122"  # 应收账款
RAW_MATERIALS = "1403"  # 原材料
MATERIAL_COST_VARIANCE = "1404"  # 材料成本差异
INTERMEDIATES = "1405.01"  # 库存商品-自制半成品
FINISHED_GOODS = "1405.02"  # 库存商品-产成品
TRADE_GOODS = "1405.03"  # 库存商品-外购商品
PACKAGING = "1411"  # 周转材料-包装物
STOCK_DIFFERENCES = "1901"  # 待处理财产损溢 (stock count differences)
PAYABLES = "2202"  # 应付账款 (suppliers' invoices, by supplier in the payables module)
GOODS_RECEIVED_NOT_INVOICED = "2202.01"  # 应付账款-暂估 (GRNI)
INPUT_VAT = "2221.01.01"  # 应交税费-应交增值税(进项税额)
OUTPUT_VAT = "2221.01.02"  # 应交税费-应交增值税(销项税额)
CUSTOMER_ADVANCES = "2203"  # 预收账款 (unapplied customer payments)
REVENUE = "6001"  # 主营业务收入
PRODUCTION = "5001"  # 生产成本 (issues to production)
OVERHEAD = "5101"  # 制造费用 (issues to cost centres)
COST_OF_GOODS_SOLD = "6401"  # 主营业务成本
# Production orders (erp.production): components issued to an order and conversion absorbed
# at standard rates are work in process until output is delivered at standard; what is left
# on a completed order is its variance, settled by the close to the variance accounts.
WORK_IN_PROCESS = "5001.01"  # 生产成本-在产品 (production orders)
LABOUR_ABSORBED = "5101.01"  # 制造费用-直接人工分配 (labour absorbed at standard rates)
OVERHEAD_ABSORBED = "5101.02"  # 制造费用-制造费用分配 (overhead absorbed at standard rates)
INPUT_QUANTITY_VARIANCE = "6405.01"  # 生产成本差异-投入数量差异
INPUT_PRICE_VARIANCE = "6405.02"  # 生产成本差异-投入价格差异
LOT_SIZE_VARIANCE = "6405.03"  # 生产成本差异-批量及剩余差异
SCRAP = "6711"  # 营业外支出-存货报废
# Balances taken over at go-live are posted against this clearing account (期初建账过渡), so
# every trial balance balances from the first day; accounting moves it to equity.
OPENING_BALANCES = "4199"

INVENTORY_ACCOUNT = {
    MaterialType.RAW: RAW_MATERIALS,
    MaterialType.PACKAGING: PACKAGING,
    MaterialType.INTERMEDIATE: INTERMEDIATES,
    MaterialType.FINISHED: FINISHED_GOODS,
    MaterialType.TRADE: TRADE_GOODS,
}
INVENTORY_ACCOUNTS = frozenset(INVENTORY_ACCOUNT.values())

# (code, name_zh, name_en, kind)
CHART = [
    (BANK, "银行存款", "Bank", "asset"),
    (RECEIVABLES, "应收账款", "Accounts receivable", "asset"),
    (RAW_MATERIALS, "原材料", "Raw materials", "asset"),
    (MATERIAL_COST_VARIANCE, "材料成本差异", "Material cost variance", "asset"),
    (INTERMEDIATES, "库存商品-自制半成品", "Intermediates", "asset"),
    (FINISHED_GOODS, "库存商品-产成品", "Finished goods", "asset"),
    (TRADE_GOODS, "库存商品-外购商品", "Trade goods", "asset"),
    (PACKAGING, "周转材料-包装物", "Packaging materials", "asset"),
    (STOCK_DIFFERENCES, "待处理财产损溢", "Stock count differences", "asset"),
    (PAYABLES, "应付账款", "Accounts payable", "liability"),
    (GOODS_RECEIVED_NOT_INVOICED, "应付账款-暂估", "Goods received not invoiced", "liability"),
    (INPUT_VAT, "应交税费-应交增值税(进项税额)", "Input VAT", "asset"),
    (OUTPUT_VAT, "应交税费-应交增值税(销项税额)", "Output VAT", "liability"),
    (CUSTOMER_ADVANCES, "预收账款", "Customer advances and unapplied payments", "liability"),
    (REVENUE, "主营业务收入", "Revenue", "revenue"),
    (PRODUCTION, "生产成本", "Production (materials consumed)", "expense"),
    (OVERHEAD, "制造费用", "Manufacturing overhead (cost centres)", "expense"),
    (COST_OF_GOODS_SOLD, "主营业务成本", "Cost of goods sold", "expense"),
    (SCRAP, "营业外支出-存货报废", "Scrap and write-offs", "expense"),
    (OPENING_BALANCES, "期初建账过渡", "Opening balances (go-live clearing)", "equity"),
]
# Added by migration 0027 (production orders).
PRODUCTION_CHART = [
    (WORK_IN_PROCESS, "生产成本-在产品", "Work in process (production orders)", "asset"),
    (LABOUR_ABSORBED, "制造费用-直接人工分配", "Labour absorbed by production orders", "expense"),
    (OVERHEAD_ABSORBED, "制造费用-制造费用分配", "Overhead absorbed by production orders", "expense"),
    (INPUT_QUANTITY_VARIANCE, "生产成本差异-投入数量差异", "Production variance: input quantity", "expense"),
    (INPUT_PRICE_VARIANCE, "生产成本差异-投入价格差异", "Production variance: input price", "expense"),
    (LOT_SIZE_VARIANCE, "生产成本差异-批量及剩余差异", "Production variance: lot size and remaining", "expense"),
]
CHART = CHART + PRODUCTION_CHART
