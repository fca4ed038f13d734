"""The mixed workload of a group's busy day, for locust (run by ``python -m bench.load``).

Every simulated user is one member of staff who, at each turn, does one piece of work of
one role, drawn by weight, so that the mix is the same with 1 user as with 50:

| weight | work | requests |
|---|---|---|
| 8 | a clerk books a receipt against an open order line of FORM01's warehouses | (open lines, every 20th), receipt |
| 2 | a buyer orders what FORM01 may buy from one supplier and submits it | order, submit |
| 1 | a purchasing manager approves an order waiting for approval | orders waiting, approve |
| 5 | sales takes a customer's order, confirms it under the credit check and ships it | order, confirmation, shipment |
| 2 | sales records a customer's payment of one of the invoices it raised | payment |
| 1 | the CIO reads the consolidated receivables | dashboard |

Users mostly do valid work: receipts take a few units of lines with plenty left, sales
sell to customers with room under their limits from stock that will not run out. What the
business may still legitimately refuse under concurrency (two managers approving the
same order: the second is told the order is no longer waiting; a line received to its
end) is a *refusal*: counted per operation and problem type, not as a failure. Any other
status (5xx, 401, a validation error, an unexpected 409) is a failure.

The plan (tokens and ids) comes from the file named by ``LOAD_PLAN``; at the end the
per-operation figures and the refusals are written to the file named by ``LOAD_RESULT``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import uuid
from collections import Counter, deque
from pathlib import Path
from typing import Any

from locust import FastHttpUser, constant, events, task
from locust.env import Environment

PLAN: dict[str, Any] = json.loads(Path(os.environ["LOAD_PLAN"]).read_text(encoding="utf-8"))
TODAY = dt.date.fromisoformat(PLAN["today"])
# Problem types the business may answer to valid work done concurrently, by operation. A
# confirmation blocked by credit control answers 200 with the order "blocked": counted as
# a refusal too (in ``sell``).
REFUSALS = {
    "receipt": {"over-receipt", "order-not-open"},
    "approve order": {"status-transition-not-allowed"},
    "ship sales order": {"credit-limit-exceeded", "customer-on-credit-hold", "insufficient-stock"},
}
refusals: Counter[tuple[str, str]] = Counter()
failures_seen: Counter[tuple[str, int, str]] = Counter()


def _problem_slug(response: Any) -> str:
    try:
        return str(response.json().get("type", "")).rstrip("/").rsplit("/", 1)[-1]
    except (ValueError, AttributeError):
        return ""


class Staff(FastHttpUser):
    """One member of staff doing one piece of some role's work at each turn."""

    # No think time: the load is as heavy as the users can make it.
    wait_time = constant(0)
    network_timeout = 120.0
    connection_timeout = 30.0

    def on_start(self) -> None:
        self.number = uuid.uuid4().hex[:8]
        self.turn = 0
        self.open_lines: list[dict[str, Any]] = []
        self.receipts_since_read = 0
        self.invoices: deque[dict[str, Any]] = deque()
        self.seller = random.choice(PLAN["sellers"])
        self.rng = random.Random()

    # --- helpers -------------------------------------------------------------------------

    def _call(self, method: str, path: str, name: str, token: str, expected: int, body: Any = None,
              headers: dict[str, str] | None = None) -> dict[str, Any] | None:
        """Send one request; a success returns its JSON, a refusal or failure None."""
        all_headers = {"Authorization": f"Bearer {token}", **(headers or {})}
        with self.client.request(method, path, name=name, json=body, headers=all_headers,
                                 catch_response=True) as response:
            if response.status_code == expected:
                response.success()
                return response.json()  # type: ignore[no-any-return]
            slug = _problem_slug(response)
            if slug and slug in REFUSALS.get(name, set()) and 400 <= response.status_code < 500:
                refusals[(name, slug)] += 1
                response.success()
                return None
            failures_seen[(name, response.status_code, slug)] += 1
            response.failure(f"{response.status_code} {slug or (response.text or '')[:200]}")
            return None

    # --- the work ------------------------------------------------------------------------

    @task(8)
    def receive(self) -> None:
        """A clerk books a few units against an open order line."""
        clerk = PLAN["clerk"]
        if not self.open_lines or self.receipts_since_read >= 20:
            page = self._call("GET", "/api/v1/inventory/lines-open-for-receipt?page_size=100", "open lines",
                              clerk["token"], 200)
            self.receipts_since_read = 0
            self.open_lines = [line for line in (page or []) if float(line["open_quantity"]) >= 50]
            if not self.open_lines:
                return
        line = self.rng.choice(self.open_lines)
        self.receipts_since_read += 1
        self.turn += 1
        body: dict[str, Any] = {"po_line_id": line["po_line_id"], "quantity": str(self.rng.randint(1, 5)),
                                "posting_date": TODAY.isoformat()}
        batch = self._batch(line["material_id"])
        if batch:
            body.update(batch_number=f"L{self.number}-{self.turn}", **batch)
        self._call("POST", "/api/v1/inventory/receipts", "receipt", clerk["token"], 201, body)

    def _batch(self, material_id: int) -> dict[str, str] | None:
        choice = next((c for c in PLAN["buyer"]["choices"] if c["material_id"] == material_id), None)
        if choice is not None and not choice["batch_managed"]:
            return None
        life = (choice or {}).get("shelf_life_days") or 730
        made = TODAY - dt.timedelta(days=10)
        return {"manufacture_date": made.isoformat(), "expiry_date": (made + dt.timedelta(days=life)).isoformat()}

    @task(2)
    def order(self) -> None:
        """A buyer orders one to three materials of one supplier and submits the order."""
        buyer = PLAN["buyer"]
        supplier = self.rng.choice(sorted({c["supplier_id"] for c in buyer["choices"]}))
        offered = [c for c in buyer["choices"] if c["supplier_id"] == supplier]
        lines = self.rng.sample(offered, self.rng.randint(1, min(3, len(offered))))
        created = self._call("POST", "/api/v1/purchasing/orders", "create order", buyer["token"], 201, {
            "receiving_company_id": PLAN["company_id"], "supplier_id": supplier,
            "lines": [{"material_id": c["material_id"], "warehouse_id": c["warehouse_id"],
                       "quantity": str(self.rng.randint(100, 5000))} for c in lines]})
        if created:
            self._call("POST", f"/api/v1/purchasing/orders/{created['id']}/submit", "submit order",
                       buyer["token"], 200)

    @task(1)
    def approve(self) -> None:
        """A purchasing manager approves one of the orders waiting for approval."""
        manager = PLAN["manager"]
        waiting = self._call("GET", "/api/v1/purchasing/orders?status=pending_approval&page_size=20",
                             "orders waiting", manager["token"], 200)
        if waiting:
            order = self.rng.choice(waiting)
            self._call("POST", f"/api/v1/purchasing/orders/{order['id']}/approve", "approve order",
                       manager["token"], 200)

    @task(5)
    def sell(self) -> None:
        """Sales takes an order, confirms it under the credit check and ships it whole."""
        seller = self.seller
        customer_id = self.rng.choice(PLAN["customers"])
        goods = self.rng.sample(seller["goods"], self.rng.randint(1, 2))
        created = self._call("POST", "/api/v1/sales-orders", "create sales order", seller["token"], 201, {
            "company_id": seller["company_id"], "customer_id": customer_id, "order_date": TODAY.isoformat(),
            "lines": [{"material_id": g["material_id"], "warehouse_id": seller["warehouse_id"],
                       "quantity": str(self.rng.randint(1, 40)), "unit_price": g["unit_price"],
                       "tax_code_id": g["tax_code_id"]} for g in goods]})
        if not created:
            return
        confirmed = self._call("POST", f"/api/v1/sales-orders/{created['id']}/confirmation", "confirm sales order",
                               seller["token"], 200)
        if not confirmed:
            return
        if confirmed["status"] != "confirmed":  # blocked by credit control: the business said no
            refusals[("confirm sales order", f"order {confirmed['status']}")] += 1
            return
        shipped = self._call(
            "POST", f"/api/v1/sales-orders/{created['id']}/shipments", "ship sales order", seller["token"], 201,
            {"posting_date": TODAY.isoformat(),
             "lines": [{"order_line_id": line["id"], "quantity": line["quantity"]} for line in confirmed["lines"]]},
            headers={"Idempotency-Key": uuid.uuid4().hex})
        if shipped:
            self.invoices.append({"id": shipped["invoice"]["id"], "amount": shipped["invoice"]["amount"],
                                  "customer_id": customer_id})

    @task(2)
    def collect(self) -> None:
        """Sales records a customer's payment of the oldest invoice this user raised."""
        if not self.invoices:
            return self.sell()
        invoice = self.invoices.popleft()
        seller = self.seller
        self._call("POST", "/api/v1/payments", "payment", seller["token"], 201, {
            "company_id": seller["company_id"], "customer_id": invoice["customer_id"],
            "payment_date": TODAY.isoformat(), "amount": invoice["amount"], "invoice_ids": [invoice["id"]],
            "bank_reference": f"LOAD-{invoice['id']}"})
        return None

    @task(1)
    def dashboard(self) -> None:
        """The CIO reads the consolidated receivables."""
        self._call("GET", "/api/v1/credit/dashboard", "dashboard", PLAN["cio"]["token"], 200)


@events.quitting.add_listener
def _write_result(environment: Environment, **_: Any) -> None:
    """The figures per operation, the refusals and the failures, for the runner."""
    stats = environment.stats
    operations = {}
    for (name, method), entry in sorted(stats.entries.items()):
        operations[name] = {
            "method": method, "requests": entry.num_requests, "failures": entry.num_failures,
            "p50_ms": entry.get_response_time_percentile(0.5), "p99_ms": entry.get_response_time_percentile(0.99),
            "mean_ms": entry.avg_response_time,
        }
    total = stats.total
    result = {
        "requests": total.num_requests, "failures": total.num_failures,
        "seconds": max(total.last_request_timestamp - total.start_time, 1e-9) if total.last_request_timestamp else 0,
        "p50_ms": total.get_response_time_percentile(0.5), "p99_ms": total.get_response_time_percentile(0.99),
        "operations": operations,
        "refusals": [{"operation": op, "type": slug, "count": n} for (op, slug), n in sorted(refusals.items())],
        "failure_kinds": [{"operation": op, "status": status, "type": slug, "count": n}
                          for (op, status, slug), n in sorted(failures_seen.items())],
        "errors": [{"operation": e.name, "error": str(e.error), "count": e.occurrences}
                   for e in stats.errors.values()],
    }
    with open(os.environ["LOAD_RESULT"], "w", encoding="utf-8") as out:
        json.dump(result, out, indent=1)
