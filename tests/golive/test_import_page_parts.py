"""The import page's job part renders what an opening stock check would post per warehouse:
quantities with their units, money, the totals row (finding 115)."""

from __future__ import annotations

from types import SimpleNamespace

from flask import Flask, render_template

from erp.golive.kinds import KINDS
from erp.golive.pages import COUNT_LABELS, DOCUMENT_LABELS


def test_the_opening_stock_check_shows_quantities_values_and_totals_per_warehouse(app: Flask) -> None:
    result = {"rows": 2, "error_count": 0, "committed": False, "counts": {"rows": 2},
              "totals": {"by_warehouse": [{"warehouse": "CA-AMB", "name_zh": "常温库", "name_en": "Ambient", "rows": 2,
                                           "quantities": {"KG": "120.5", "EA": "1000"}, "value": "2506.25",
                                           "variance": "-3.00"}],
                         "total": {"rows": 2, "value": "2506.25", "variance": "-3.00"}}}
    job = {"id": 1, "status": SimpleNamespace(value="succeeded"), "rows_done": 2, "error_count": 0, "company_id": 1}
    with app.test_request_context("/golive/imports/jobs/1", headers={"Accept-Language": "en"}):
        html = render_template("golive/_job.html", job=job, spec=KINDS["opening_stock"], result=result, errors=[],
                               error_rows=0, params={"dry_run": True}, documents={}, may_import=False,
                               count_labels=COUNT_LABELS, document_labels=DOCUMENT_LABELS, links={}, refusal=None)
    assert "120.5" in html and "¥2,506.25" in html and "-¥3.00" in html and 'data-testid="total-value"' in html
