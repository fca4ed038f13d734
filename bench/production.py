"""Benchmark: the standard cost roll-up and batch genealogy (#21), each beside a raw-SQL
baseline in the same run.

Roll-up. A company with 2,000 bought materials (standard prices set) and 20,000 made ones
on five levels of 4,000, each with a BOM of three components (level 1: three bought; level
n > 1: one bought and two of level n - 1) and 1.5 h at one cost centre. Times:

- baseline: the same costs in hand-written SQL that is told the levels in advance: five
  INSERT ... SELECT into a temporary table of unit costs (no breakdown kept);
- the service: ``erp.production.rollup.run_rollup`` (finds the levels itself, refuses
  missing prices, rates and cycles, keeps the breakdown lines and the estimates),
  rolled back after each run. The two results are compared material by material.

Genealogy. 150,000 batches (100,000 bought from 100 suppliers; 20,000 made by level-1
orders from four bought batches each; 30,000 made by level-2 orders from two level-1
batches and two bought ones), 5,000 customers and 1,000,000 ledger movements: the receipts,
the issues to the orders, the orders' receipts and 650,000 shipments of the finished
batches. Times the recall question, from one bought batch up to every batch made from it
and every customer that received any of them, and the reverse from one finished batch down:

- baseline: one hand-written recursive query (and the shipments' aggregate) through psycopg;
- the service: ``erp.production.genealogy.trace`` (the caller's scope checked).

Usage:
    .venv/bin/python -m bench.production [--runs 5] [--per-level 4000] [--shipments 650000]
"""

from __future__ import annotations

import argparse
import time
from decimal import Decimal
from typing import Any

import psycopg

from bench.common import fresh_database, git_revision, machine, timed
from erp.auth.roles import Actor, Role
from erp.db import make_session_factory
from erp.production import genealogy
from erp.production.models import CostEstimate
from erp.production.rollup import run_rollup

SETUP = """
INSERT INTO groups (id, code, name_zh, name_en, created_at, updated_at) VALUES (1, 'G', 'G', 'G', now(), now());
INSERT INTO segments (id, group_id, code, name_zh, name_en, active, created_at, updated_at)
    VALUES (1, 1, 'S', 'S', 'S', true, now(), now());
INSERT INTO companies (id, code, segment_id, name_zh, name_en, active, created_at, updated_at)
    VALUES (1, 'C01', 1, 'C1', 'C1', true, now(), now());
INSERT INTO warehouses (id, code, company_id, name_zh, name_en, temp_min, temp_max, max_humidity, active,
                        created_at, updated_at) VALUES (1, 'W1', 1, 'W1', 'W1', 2, 30, 75, true, now(), now());
INSERT INTO units (id, code, name_zh, name_en, decimals, active, created_at, updated_at)
    VALUES (1, 'KG', 'KG', 'KG', 3, true, now(), now());
INSERT INTO users (id, username, display_name, password_hash, role, group_wide, active, created_at)
    VALUES (1, 'bench', 'bench', 'x', 'cost_accountant', true, true, now());
INSERT INTO materials (id, code, name_zh, name_en, material_type, unit_id, procurement_scope, batch_managed,
                       inspection_required, over_receipt_tolerance_pct, active, created_at, updated_at)
    SELECT m, 'M' || m, 'M' || m, 'M' || m,
           CASE WHEN m <= %(raw)s::int THEN 'raw' WHEN m > %(raw)s::int + 4 * %(per_level)s::int THEN 'finished'
                ELSE 'intermediate' END,
           1, 'local', true, false, 0, true, now(), now()
    FROM generate_series(1, %(raw)s::int + 5 * %(per_level)s::int) AS m;
INSERT INTO standard_prices (company_id, material_id, period, price, set_at)
    SELECT 1, m, '2026-11', 1 + (m %% 50) * 0.37, now() FROM generate_series(1, %(raw)s::int) AS m;
INSERT INTO cost_center_rates (company_id, cost_center, period, labour_rate, overhead_rate, set_by, set_at)
    VALUES (1, 'CC1', '2026-11', 40, 60, 1, now());
INSERT INTO boms (id, company_id, material_id, version, valid_from, base_quantity, cost_center, hours, created_by,
                  created_at)
    SELECT m - %(raw)s::int, 1, m, 1, '2026-11-01', 10, 'CC1', 1.5, 1, now()
    FROM generate_series(%(raw)s::int + 1, %(raw)s::int + 5 * %(per_level)s::int) AS m;
INSERT INTO bom_components (bom_id, line_no, material_id, quantity, scrap_pct)
    SELECT b.id, l.line_no,
           CASE WHEN l.line_no = 1 THEN 1 + (b.j * 7) %% %(raw)s::int
                WHEN b.lvl = 1 THEN 1 + (b.j * 7 + l.line_no - 1) %% %(raw)s::int
                ELSE %(raw)s::int + (b.lvl - 2) * %(per_level)s::int + 1 + (b.j * 13 + l.line_no - 2) %% %(per_level)s::int END,
           CASE l.line_no WHEN 1 THEN 2.5 WHEN 2 THEN 1.2 ELSE 0.8 END,
           CASE l.line_no WHEN 1 THEN 2 ELSE 0 END
    FROM (SELECT m - %(raw)s::int AS id, 1 + (m - %(raw)s::int - 1) / %(per_level)s::int AS lvl, (m - %(raw)s::int - 1) %% %(per_level)s::int AS j
          FROM generate_series(%(raw)s::int + 1, %(raw)s::int + 5 * %(per_level)s::int) AS m) b
    CROSS JOIN generate_series(1, 3) AS l(line_no);
SELECT setval(pg_get_serial_sequence(t, 'id'), 10000000)
    FROM unnest(ARRAY['groups', 'segments', 'companies', 'warehouses', 'units', 'users', 'materials', 'boms',
                      'bom_components']) AS t;
ANALYZE;
"""

# The roll-up by hand, told the levels: made materials of level L are ids raw + (L-1) x per_level + 1 ...
BASELINE_ROLLUP = """
INSERT INTO baseline_costs
SELECT b.material_id,
       round((sum(c.quantity * (1 + c.scrap_pct / 100) * coalesce(k.unit_cost, sp.price))
              + b.hours * (r.labour_rate + r.overhead_rate)) / b.base_quantity, 6)
FROM boms b
JOIN bom_components c ON c.bom_id = b.id
LEFT JOIN baseline_costs k ON k.material_id = c.material_id
LEFT JOIN standard_prices sp ON sp.company_id = 1 AND sp.material_id = c.material_id AND sp.period = '2026-11'
JOIN cost_center_rates r ON r.company_id = 1 AND r.cost_center = b.cost_center AND r.period = '2026-11'
WHERE b.material_id BETWEEN %(low)s AND %(high)s
GROUP BY b.material_id, b.hours, b.base_quantity, r.labour_rate, r.overhead_rate
"""

GENEALOGY = """
INSERT INTO suppliers (id, code, uscc, name_zh, name_en, blocked, active, created_at, updated_at)
    SELECT s, 'S' || s, 'S' || lpad(s::text, 17, '0'), 'S' || s, 'S' || s, false, true, now(), now()
    FROM generate_series(1, 100) AS s;
INSERT INTO customers (id, code, uscc, name_zh, name_en, payment_terms_days, blocked, active, created_at, updated_at)
    SELECT k, 'K' || k, 'K' || lpad(k::text, 17, '0'), 'K' || k, 'K' || k, 30, false, true, now(), now()
    FROM generate_series(1, 5000) AS k;
-- bought batches 1..R; level-1 output batches R + 1 .. R + O1; level-2 output batches R + O1 + 1 .. R + O1 + O2
INSERT INTO batches (id, material_id, batch_number, supplier_id, created_at)
    SELECT b, 1 + b %% %(raw)s::int, 'R' || b, 1 + b %% 100, now() FROM generate_series(1, %(bought)s::int) AS b;
INSERT INTO batches (id, material_id, batch_number, created_at)
    SELECT %(bought)s::int + o, CASE WHEN o <= %(o1)s::int THEN %(raw)s::int + 1 + o %% %(per_level)s::int
                                ELSE %(raw)s::int + 4 * %(per_level)s::int + 1 + o %% %(per_level)s::int END,
           'P' || o, now()
    FROM generate_series(1, %(o1)s::int + %(o2)s::int) AS o;
INSERT INTO production_orders (id, company_id, material_id, bom_id, warehouse_id, quantity, order_date, status,
                               base_quantity, hours, labour_rate, overhead_rate, delivered_quantity, created_by,
                               created_at)
    SELECT o, 1, b.material_id, b.material_id - %(raw)s::int, 1, 100, '2026-11-02', 'completed', 10, 1.5, 40, 60, 100, 1,
           now()
    FROM generate_series(1, %(o1)s::int + %(o2)s::int) AS o JOIN batches b ON b.id = %(bought)s::int + o;
INSERT INTO production_order_batches (order_id, batch_id, role)
    SELECT o, %(bought)s::int + o, 'output' FROM generate_series(1, %(o1)s::int + %(o2)s::int) AS o;
INSERT INTO production_order_batches (order_id, batch_id, role)
    SELECT DISTINCT o, CASE WHEN o <= %(o1)s::int OR k >= 2 THEN 1 + (o * 4 + k * 7919) %% %(bought)s::int
                            ELSE %(bought)s::int + 1 + (o * 3 + k * 104729) %% %(o1)s::int END, 'input'
    FROM generate_series(1, %(o1)s::int + %(o2)s::int) AS o CROSS JOIN generate_series(0, 3) AS k;
-- documents: one per 100 receipts, one issue and one production receipt per order, one per 10 shipments
INSERT INTO stock_documents (id, number, doc_type, company_id, posting_date, period, customer_id, created_by,
                             created_at)
    SELECT d, 'D-' || d,
           CASE WHEN d <= 1000 THEN 'receipt' WHEN d <= 1000 + %(orders)s::int THEN 'issue'
                WHEN d <= 1000 + 2 * %(orders)s::int THEN 'production_receipt' ELSE 'shipment' END,
           1, '2026-11-20', '2026-11',
           CASE WHEN d > 1000 + 2 * %(orders)s::int THEN 1 + (d * 31) %% 5000 END, 1, now()
    FROM generate_series(1, 1000 + 2 * %(orders)s::int + %(shipments)s::int / 10) AS d;
INSERT INTO stock_movements (document_id, movement_type, close_class, company_id, warehouse_id, material_id,
                             batch_id, status, quantity, value, variance, offset_account, posting_date, period,
                             created_by, created_at)
    SELECT 1 + (b - 1) / 100, 'receipt', 'receipt', 1, 1, 1 + b %% %(raw)s::int, b, 'unrestricted', 100, 100, 0, NULL,
           '2026-11-20', '2026-11', 1, now()
    FROM generate_series(1, %(bought)s::int) AS b;
INSERT INTO stock_movements (document_id, movement_type, close_class, company_id, warehouse_id, material_id,
                             batch_id, status, quantity, value, variance, offset_account, posting_date, period,
                             created_by, created_at)
    SELECT 1000 + l.order_id, 'issue', 'consumption', 1, 1, b.material_id, l.batch_id, 'unrestricted', -1, -1, 0,
           '5001.01', '2026-11-20', '2026-11', 1, now()
    FROM production_order_batches l JOIN batches b ON b.id = l.batch_id WHERE l.role = 'input';
INSERT INTO stock_movements (document_id, movement_type, close_class, company_id, warehouse_id, material_id,
                             batch_id, status, quantity, value, variance, offset_account, posting_date, period,
                             created_by, created_at)
    SELECT 1000 + %(orders)s::int + o, 'production_receipt', 'inflow', 1, 1, b.material_id, b.id, 'unrestricted', 100,
           100, 0, NULL, '2026-11-20', '2026-11', 1, now()
    FROM generate_series(1, %(orders)s::int) AS o JOIN batches b ON b.id = %(bought)s::int + o;
INSERT INTO stock_movements (document_id, movement_type, close_class, company_id, warehouse_id, material_id,
                             batch_id, status, quantity, value, variance, offset_account, posting_date, period,
                             created_by, created_at)
    SELECT 1000 + 2 * %(orders)s::int + 1 + i / 10, 'shipment', 'consumption', 1, 1, b.material_id, b.id,
           'unrestricted', -1, -1, 0, '6401', '2026-11-25', '2026-11', 1, now()
    FROM generate_series(0, %(shipments)s::int - 1) AS i
    JOIN batches b ON b.id = %(bought)s::int + %(o1)s::int + 1 + (i * 7) %% %(o2)s::int;
SELECT setval(pg_get_serial_sequence(t, 'id'), 100000000)
    FROM unnest(ARRAY['suppliers', 'customers', 'batches', 'production_orders', 'stock_documents']) AS t;
VACUUM ANALYZE;
"""

BASELINE_TRACE = """
WITH RECURSIVE tree(batch_id, depth) AS (
    SELECT %(batch)s::int, 0
    UNION
    SELECT there.batch_id, tree.depth + 1
    FROM tree
    JOIN production_order_batches here ON here.batch_id = tree.batch_id AND here.role = %(from_role)s
    JOIN production_order_batches there ON there.order_id = here.order_id AND there.role = %(to_role)s
    WHERE tree.depth < 50
), reached AS (SELECT batch_id, min(depth) AS depth FROM tree GROUP BY batch_id)
SELECT r.batch_id, b.batch_number, m.code, r.depth, s.code
FROM reached r JOIN batches b ON b.id = r.batch_id JOIN materials m ON m.id = b.material_id
LEFT JOIN suppliers s ON s.id = b.supplier_id
ORDER BY r.depth, m.code, b.batch_number
"""

BASELINE_CUSTOMERS = """
WITH RECURSIVE tree(batch_id, depth) AS (
    SELECT %(batch)s::int, 0
    UNION
    SELECT there.batch_id, tree.depth + 1
    FROM tree
    JOIN production_order_batches here ON here.batch_id = tree.batch_id AND here.role = 'input'
    JOIN production_order_batches there ON there.order_id = here.order_id AND there.role = 'output'
    WHERE tree.depth < 50
)
SELECT c.id, c.code, m.batch_id, -sum(m.quantity)
FROM stock_movements m JOIN stock_documents d ON d.id = m.document_id JOIN customers c ON c.id = d.customer_id
WHERE m.batch_id IN (SELECT batch_id FROM tree) AND m.movement_type IN ('shipment', 'shipment_reversal')
GROUP BY c.id, c.code, m.batch_id ORDER BY c.code, m.batch_id
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--raw", type=int, default=2000)
    parser.add_argument("--per-level", type=int, default=4000)
    parser.add_argument("--bought", type=int, default=100_000)
    parser.add_argument("--o1", type=int, default=20_000)
    parser.add_argument("--o2", type=int, default=30_000)
    parser.add_argument("--shipments", type=int, default=650_000)
    parser.add_argument("--rollup-only", action="store_true", help="skip the genealogy part")
    args = parser.parse_args()
    params = {"raw": args.raw, "per_level": args.per_level, "bought": args.bought, "o1": args.o1, "o2": args.o2,
              "orders": args.o1 + args.o2, "shipments": args.shipments}
    actor = Actor(1, "bench", Role.COST_ACCOUNTANT, True)
    with fresh_database("erp_bench_production") as (engine, url):
        started = time.perf_counter()
        with psycopg.connect(url, autocommit=True) as conn:
            for statement in SETUP.split(";\n"):
                if statement.strip():
                    conn.execute(statement, params)
        print(f"roll-up set-up: {time.perf_counter() - started:.1f} s", flush=True)

        def baseline_rollup() -> dict[int, Decimal]:
            with psycopg.connect(url) as conn:
                conn.execute("CREATE TEMP TABLE baseline_costs (material_id int PRIMARY KEY, unit_cost numeric)")
                for level in range(1, 6):
                    low = args.raw + (level - 1) * args.per_level + 1
                    conn.execute(BASELINE_ROLLUP, {"low": low, "high": low + args.per_level - 1})
                costs = dict(conn.execute("SELECT material_id, unit_cost FROM baseline_costs").fetchall())
                conn.rollback()
                return costs

        sessions = make_session_factory(engine)

        def service_rollup() -> dict[int, Decimal]:
            with sessions() as session:
                session.begin()
                run = run_rollup(session, actor, company_id=1, period="2026-11")
                costs = dict(session.execute(
                    CostEstimate.__table__.select().with_only_columns(CostEstimate.material_id, CostEstimate.unit_cost)
                    .where(CostEstimate.rollup_id == run.id)).all())
                levels = run.levels
                session.rollback()
                assert levels == 5, levels
                return costs

        expected, got = baseline_rollup(), service_rollup()
        differ = {m: (got.get(m), expected.get(m)) for m in set(got) | set(expected) if got.get(m) != expected.get(m)}
        assert len(got) == 5 * args.per_level and not differ, f"service and baseline disagree: {list(differ.items())[:5]}"
        rollup_baseline = timed(baseline_rollup, args.runs)
        rollup_service = timed(service_rollup, args.runs)
        print(f"roll-up of {5 * args.per_level} materials on 5 levels: baseline {rollup_baseline * 1000:.1f} ms, "
              f"service {rollup_service * 1000:.1f} ms, ratio {rollup_service / rollup_baseline:.2f}x "
              f"(median of {args.runs})", flush=True)

        if args.rollup_only:
            print(f"machine: {machine()}; revision {git_revision()}")
            return
        started = time.perf_counter()
        with psycopg.connect(url, autocommit=True) as conn:
            for statement in GENEALOGY.split(";\n"):
                if statement.strip():
                    conn.execute(statement, params)
            movements = conn.execute("SELECT count(*) FROM stock_movements").fetchone()[0]  # type: ignore[index]
            start = conn.execute("SELECT min(batch_id) FROM production_order_batches WHERE role = 'input' "
                                 "AND batch_id <= %(bought)s", params).fetchone()[0]  # type: ignore[index]
            finished = args.bought + args.o1 + 1
        print(f"genealogy set-up: {time.perf_counter() - started:.1f} s, {movements} movements", flush=True)

        def baseline_up() -> tuple[list[Any], list[Any]]:
            with psycopg.connect(url) as conn:
                batches = conn.execute(BASELINE_TRACE, {"batch": start, "from_role": "input",
                                                        "to_role": "output"}).fetchall()
                customers = conn.execute(BASELINE_CUSTOMERS, {"batch": start}).fetchall()
                return batches, customers

        def baseline_down() -> list[Any]:
            with psycopg.connect(url) as conn:
                return conn.execute(BASELINE_TRACE, {"batch": finished, "from_role": "output",
                                                     "to_role": "input"}).fetchall()

        def service(batch: int, direction: genealogy.Direction) -> genealogy.Genealogy:
            with sessions() as session, session.begin():
                return genealogy.trace(session, actor, batch, direction)

        up, (base_batches, base_customers) = service(start, genealogy.Direction.UP), baseline_up()
        assert len(up.batches) == len(base_batches) and len(up.customers) == len(base_customers)
        down = service(finished, genealogy.Direction.DOWN)
        assert len(down.batches) == len(baseline_down())
        up_baseline = timed(baseline_up, args.runs)
        up_service = timed(lambda: service(start, genealogy.Direction.UP), args.runs)
        down_baseline = timed(baseline_down, args.runs)
        down_service = timed(lambda: service(finished, genealogy.Direction.DOWN), args.runs)

    print(f"machine: {machine()}; revision {git_revision()}")
    print(f"genealogy up from bought batch {start} ({len(up.batches)} batches, {len(up.customers)} customer-batches) "
          f"through {movements} movements: baseline {up_baseline * 1000:.1f} ms, service {up_service * 1000:.1f} ms, "
          f"ratio {up_service / up_baseline:.2f}x")
    print(f"genealogy down from finished batch {finished} ({len(down.batches)} batches): baseline "
          f"{down_baseline * 1000:.1f} ms, service {down_service * 1000:.1f} ms, ratio "
          f"{down_service / down_baseline:.2f}x")


if __name__ == "__main__":
    main()
