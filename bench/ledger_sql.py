"""The stock balances and period totals that postings keep current, derived from a
generated ledger with one GROUP BY each (as ``flask --app erp stock check --repair``
rebuilds them): shared by bench/month_end_close.py and bench/generate.py.

Written with ``%%`` where SQL needs ``%``: run with parameters through psycopg."""

from __future__ import annotations

BALANCES_FROM_LEDGER = """
INSERT INTO stock_balances (company_id, warehouse_id, material_id, batch_id, status, quantity, value,
                            last_posting_date)
    SELECT company_id, warehouse_id, material_id, batch_id, status, sum(quantity), sum(value), max(posting_date)
    FROM stock_movements GROUP BY company_id, warehouse_id, material_id, batch_id, status
"""

PERIOD_TOTALS_FROM_LEDGER = """
INSERT INTO period_movement_totals (company_id, period, material_id, close_class, offset_account, quantity, value,
                                    variance)
    SELECT company_id, period, material_id, close_class, coalesce(offset_account, ''), sum(quantity), sum(value),
           sum(variance)
    FROM stock_movements WHERE close_class <> 'internal'
    GROUP BY company_id, period, material_id, close_class, coalesce(offset_account, '')
"""

# One GROUP BY scan over a period's movements: the baseline of the month-end close.
MONTH_SCAN = """
SELECT company_id, material_id, sum(quantity), sum(value) FROM stock_movements
WHERE period = %(period)s GROUP BY company_id, material_id
"""
