"""Writes the go-live sample files of tests/golive/test_golive.py (run once; the files are
checked in): a new subsidiary GL1's master data and open documents, about 50 rows each,
with deliberate bad rows, and a second company's customers sharing USCCs with GL1's.

The bad rows, by file (spreadsheet row numbers, header = row 1):
- 02_materials.xlsx: row 13 unknown unit BOX; row 31 repeats the code of row 5;
- 03_suppliers.csv (GB18030): row 9 invalid USCC (wrong check character);
- 04_customers.csv: row 17 invalid USCC; row 40 repeats the code of row 3;
- 07_purchase_orders.csv: row 7 sends a cold-chain material to the ambient warehouse;
- 09_opening_stock.csv: row 12 expires before it was made; row 22 keeps a cold-chain
  material in the ambient store;
- 10_opening_receivables.csv: row 8 falls due before it was invoiced; row 30 repeats the
  old invoice number of row 4; row 45 names a customer code that does not exist.

The totals the test checks are printed at the end (worked out here with plain arithmetic,
independently of the system's code) and written into the test by hand.

Usage: python tests/golive/samples/make_samples.py
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from openpyxl import Workbook
from stdnum.cn import uscc

HERE = Path(__file__).resolve().parent


def code_with_check(base17: str) -> str:
    return base17 + uscc.calc_check_digit(base17)


def wrong_check(base17: str) -> str:
    right = uscc.calc_check_digit(base17)
    return base17 + ("0" if right != "0" else "1")


def write_csv(name: str, rows: list[list[object]], encoding: str = "utf-8-sig") -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    (HERE / name).write_bytes(buffer.getvalue().encode(encoding))


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# --- warehouses -------------------------------------------------------------------------
WAREHOUSES = [
    ["GL1-AMB", "常温库", "Ambient store", "10", "30", "75"],
    ["GL1-AMB2", "常温二库", "Ambient store 2", "10", "30", "75"],
    ["GL1-COOL", "阴凉库", "Cool store", "8", "20", "65"],
    ["GL1-COOL2", "阴凉二库", "Cool store 2", "8", "20", "65"],
    ["GL1-COLD", "冷库", "Cold store", "2", "8", "60"],
    ["GL1-COLD2", "冷库二", "Cold store 2", "2", "8", "60"],
    ["GL1-PKG", "包材库", "Packaging store", "5", "30", "80"],
    ["GL1-QC", "留样库", "Retained samples", "15", "25", "60"],
]

# --- materials: 48 rows ------------------------------------------------------------------
TYPES = ["raw", "raw", "packaging", "intermediate", "finished", "trade"]


def material(i: int) -> list[object]:
    kind = TYPES[i % 6]
    cold = i % 7 == 0
    unit = "EA" if kind == "packaging" else ("L" if i % 11 == 0 else "KG")
    return [f"GL-M{i:03d}", f"物料{i:03d}", f"Material {i:03d}", kind, unit, "central" if i % 5 == 0 else "local",
            2 if cold else None, 8 if cold else (30 if kind == "packaging" else 25), 60 if cold else None,
            730 if cold else 1095, "否" if kind == "packaging" else "是", "是" if kind == "raw" else "否",
            2 if kind == "raw" else 0]


MATERIAL_HEADER = ["物料编码 / Material code", "中文名称 / Chinese name", "英文名称 / English name",
                   "物料类型 / Material type", "计量单位 / Unit", "采购范围 / Procurement scope",
                   "储存最低温度℃ / Storage min °C", "储存最高温度℃ / Storage max °C",
                   "储存最大湿度% / Storage max humidity %", "有效期天数 / Shelf life days",
                   "批次管理 / Batch managed", "需要来料检验 / Inspection required", "超收容差% / Over-receipt tolerance %"]
materials = [material(i) for i in range(1, 49)]
bad_materials = [list(r) for r in materials]
bad_materials[11] = list(bad_materials[11])
bad_materials[11][4] = "BOX"  # row 13: unknown unit
bad_materials[29] = list(bad_materials[29])
bad_materials[29][0] = "GL-M004"  # row 31: the code of row 5 again

# --- suppliers and customers --------------------------------------------------------------
suppliers = [[f"GL-S{i:02d}", code_with_check(f"9133010000{i:07d}"), f"供应商{i:02d}有限公司", f"Supplier {i:02d} Ltd"]
             for i in range(1, 50)]
bad_suppliers = [list(r) for r in suppliers]
bad_suppliers[7][1] = wrong_check(f"9133010000{8:07d}")  # row 9: wrong check character
customers = [[f"GL-K{i:02d}", code_with_check(f"9131000000{i:07d}"), f"客户{i:02d}医院", f"Customer {i:02d} Hospital",
              30 + (i % 4) * 15] for i in range(1, 50)]
bad_customers = [list(r) for r in customers]
bad_customers[15][1] = wrong_check(f"9131000000{16:07d}")  # row 17
bad_customers[38][0] = "GL-K02"  # row 40: the code of row 3 again

# --- standard prices (every material, December 2026) ----------------------------------------
def standard(i: int) -> Decimal:
    return Decimal(i * 37 % 200 + 5) + Decimal(i % 4) / 4


prices = [[f"GL-M{i:03d}", "2026-12", format(standard(i), "f")] for i in range(1, 49)]

# --- company contracts (local materials from suppliers 1-6), 36 lines in 6 contracts ---------
local = [i for i in range(1, 49) if i % 5 != 0]  # 39 local materials
contract_lines = []
for n, i in enumerate(local[:36]):
    supplier = n // 6 + 1
    price = standard(i) + Decimal("0.5") - Decimal(n % 3) / 2  # above, at or below standard
    contract_lines.append([f"GL1-C{supplier:02d}", "", f"GL-S{supplier:02d}", "2026-01-01", "2026-12-31",
                           f"GL-M{i:03d}", format(price, "f"), ""])
CONTRACT_HEADER = ["合同编号", "供应商统一社会信用代码", "供应商编码", "生效日期", "失效日期", "物料编码", "合同单价", "目标数量"]

# --- open purchase orders: 50 lines in 10 orders ----------------------------------------------
WAREHOUSE_FOR = {}


def warehouse_for(i: int) -> str:
    m = material(i)
    if m[7] == 8:
        return "GL1-COLD"
    if m[3] == "packaging":
        return "GL1-PKG"
    return "GL1-COOL"


orders = []
open_value = Decimal(0)
open_quantity = Decimal(0)
for line in range(50):
    n = line % 36
    i = local[n]
    supplier = n // 6 + 1
    contract_price = Decimal(contract_lines[n][6])
    quantity = Decimal(10 + line * 3)
    received = Decimal(line % 4) * 2 if line % 5 else Decimal(0)
    orders.append([f"OLD-PO-{supplier:02d}", f"GL-S{supplier:02d}", "2026-11-16", f"GL-M{i:03d}", warehouse_for(i),
                   format(quantity, "f"), format(received, "f")])
ORDER_HEADER = ["原订单号", "供应商编码", "订单日期", "物料编码", "收货仓库", "订购数量", "已收数量"]
bad_orders = [list(r) for r in orders]
cold_line = next(k for k, r in enumerate(orders) if r[4] == "GL1-COLD")
bad_orders[cold_line][4] = "GL1-AMB"  # a cold-chain material sent to the ambient store

# --- credit limits --------------------------------------------------------------------------
limits = [["", f"GL-K{i:02d}", format(Decimal(100000 + i * 5000), "f"), "原系统已批准"] for i in range(1, 50)]

# --- opening stock on the go-live date 2026-12-01: 50 rows --------------------------------------
GO_LIVE = date(2026, 12, 1)
SHELF_LIFE_DAYS = {True: 730, False: 1095}
STOCK_HEADER = ["仓库编码", "物料编码", "批号", "生产日期", "有效期至", "库存状态", "数量", "标准成本金额", "材料成本差异"]


def stock_row(k: int) -> list[object]:
    i = k % 48 + 1
    m = material(i)
    batch_managed = m[10] == "是"
    made = date(2026, 1 + k % 10, 1 + k % 28)
    expires = made + timedelta(days=SHELF_LIFE_DAYS[i % 7 == 0])
    quantity = Decimal(4 + k * 3)
    value = cents(quantity * standard(i)) if k % 3 == 0 else ""
    variance = Decimal(k % 7 - 3) * Decimal("2.35")
    return [warehouse_for(i), f"GL-M{i:03d}", f"GLB{k:03d}" if batch_managed else "",
            made.isoformat() if batch_managed else "", expires.isoformat() if batch_managed else "",
            "quarantine" if k % 9 == 4 else "", format(quantity, "f"), format(value, "f") if value != "" else "",
            format(variance, "f")]


stock = [stock_row(k) for k in range(50)]
bad_stock = [list(r) for r in stock]
bad_stock[10][4] = (date.fromisoformat(stock[10][3]) - timedelta(days=1)).isoformat()  # row 12: expires before made
bad_stock[20][0] = "GL1-AMB"  # row 22: cold-chain GL-M021 in the ambient store

# --- opening receivables: 50 open invoices of the old system -------------------------------------
RECEIVABLE_HEADER = ["客户统一社会信用代码", "客户编码", "原发票号", "开票日期", "到期日", "未收金额"]


def receivable_row(k: int) -> list[object]:
    c = k % 49 + 1
    invoiced = GO_LIVE - timedelta(days=5 + k * 17 % 150)
    due = invoiced + timedelta(days=30 + (k % 4) * 15)
    amount = Decimal(800 + k * 113) + Decimal(k * 7 % 100) / 100
    return [customers[c - 1][1] if k % 5 == 0 else "", f"GL-K{c:02d}", f"GL1-INV-{k + 1:04d}", invoiced.isoformat(),
            due.isoformat(), format(amount, "f")]


receivables = [receivable_row(k) for k in range(50)]
bad_receivables = [list(r) for r in receivables]
bad_receivables[6][4] = (date.fromisoformat(receivables[6][3]) - timedelta(days=1)).isoformat()  # row 8: due < invoiced
bad_receivables[28][2] = receivables[2][2]  # row 30: the old number of row 4 again
bad_receivables[43][1] = "GL-K99"  # row 45: no such customer


def bucket(due: date, as_of: date) -> str:
    late = (as_of - due).days
    if late <= 0:
        return "not_due"
    return "days_1_30" if late <= 30 else "days_31_60" if late <= 60 else "days_61_90" if late <= 90 else "over_90"


# --- company B's customers: 10, of which 6 share GL1's USCCs under other codes and names ------
customers_b = ([[f"B-K{i:02d}", code_with_check(f"9131000000{i:07d}"), f"乙方客户{i:02d}", f"B customer {i:02d}", 60]
                for i in (2, 5, 9, 21, 33, 47)]
               + [[f"B-N{i:02d}", code_with_check(f"9132000000{i:07d}"), f"乙方新客户{i:02d}", f"B new customer {i:02d}",
                   45] for i in (1, 2, 3, 4)])


def main() -> None:
    write_csv("01_warehouses.csv", [["仓库编码", "中文名称", "英文名称", "最低温度℃", "最高温度℃", "最大相对湿度%"],
                                    *WAREHOUSES])
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(MATERIAL_HEADER)
    for row in bad_materials:
        sheet.append(row)
    workbook.save(HERE / "02_materials.xlsx")
    write_csv("03_suppliers.csv", [["编码", "统一社会信用代码", "中文名称", "英文名称"], *bad_suppliers], "gb18030")
    write_csv("04_customers.csv", [["编码", "统一社会信用代码", "中文名称", "英文名称", "账期天数"], *bad_customers])
    write_csv("05_standard_prices.csv", [["物料编码", "生效期间", "标准单价"], *prices])
    write_csv("06_company_contracts.csv", [CONTRACT_HEADER, *contract_lines])
    write_csv("07_purchase_orders.csv", [ORDER_HEADER, *bad_orders])
    write_csv("08_credit_limits.csv", [["客户统一社会信用代码", "客户编码", "信用额度", "审批说明"], *limits])
    write_csv("09_opening_stock.csv", [STOCK_HEADER, *bad_stock])
    write_csv("10_opening_receivables.csv", [RECEIVABLE_HEADER, *bad_receivables])
    write_csv("b_customers.csv", [["code", "uscc", "name_zh", "name_en", "payment_terms_days"], *customers_b])
    # The totals, by plain arithmetic.
    order_value = sum(cents(Decimal(r[5]) * Decimal(contract_lines[k % 36][6])) for k, r in enumerate(orders))
    open_qty = sum(Decimal(r[5]) - Decimal(r[6]) for r in orders)
    open_val = sum(Decimal(r[5]) - Decimal(r[6]) for r in orders)
    outstanding_value = sum(cents((Decimal(r[5]) - Decimal(r[6])) * Decimal(contract_lines[k % 36][6]))
                            for k, r in enumerate(orders))
    received = sum(Decimal(r[6]) for r in orders)
    print("bad order row:", cold_line + 2)
    print("orders total amount:", order_value, "open quantity:", open_qty, "received:", received,
          "outstanding value:", outstanding_value)
    print("standard prices total:", sum(standard(i) for i in range(1, 49)))
    print("credit limits total:", sum(Decimal(r[2]) for r in limits))
    print("orders:", len({r[0] for r in orders}), "lines:", len(orders))
    stock_value = sum(cents(Decimal(r[6]) * standard(k % 48 + 1)) for k, r in enumerate(stock))
    stock_variance = sum(Decimal(r[8]) for r in stock)
    print("opening stock: quantity", sum(Decimal(r[6]) for r in stock), "value at standard", stock_value,
          "variance", stock_variance, "quarantine rows", sum(1 for r in stock if r[5] == "quarantine"))
    owed = sum(Decimal(r[5]) for r in receivables)
    buckets: dict[str, Decimal] = {}
    for r in receivables:
        name = bucket(date.fromisoformat(r[4]), GO_LIVE)
        buckets[name] = buckets.get(name, Decimal(0)) + Decimal(r[5])
    print("opening receivables:", owed, "customers", len({r[1] for r in receivables}), "ageing on", GO_LIVE, buckets)
    print("4199 credit:", stock_value + stock_variance + owed)


if __name__ == "__main__":
    main()
