"""Benchmark: carrier labels and rates, each against a baseline measured in the same run.

- labels through the queue: N label purchases (create shipment, buy, download the label) as
  messages performed by their queue_job jobs, one transaction and commit each, versus the same
  three calls made bare with one requests session (the carrier floor). Figure: labels per
  minute, and the ratio to the floor.
- synchronous label purchase: N labels bought with `_exchange_now` (what a validation does),
  each paired with the floor of the same three calls; figure: the p95 of what the pipeline
  adds per label. Target: <= 50 ms.
- rate shopping across 3 carriers answering in 0.2 s, 0.3 s and 0.4 s: the comparison wizard
  (parallel calls) versus the slowest carrier's rate alone. Target: close to 1x.

Run by `scripts/bench`; nothing here asserts: it prints figures.
"""

import logging
import os
import statistics
import time
import uuid

import requests

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from tests.bench.bench_pipeline import perform_pending_jobs
from tests.sandboxes.carrier_partner import CarrierSandbox

N_LABELS = int(os.environ.get("LC_BENCH_LABELS", "100"))
API_KEY = "EZTK_bench_key"
ADDRESS = {"name": "Bench", "street": "1 Loop Road", "city": "Springfield", "zip": "12345",
           "country": "US"}  # fmt: skip


def label_document(index):
    return {
        "schema": "order_release/1",
        "reference": f"BENCH-LABEL-{uuid.uuid4().hex[:10]}-{index}",
        "warehouse_code": "WH",
        "ship_to": ADDRESS,
        "ship_from": ADDRESS,
        "carrier": {"code": "USPS", "service": "Priority"},
        "lines": [{"line_ref": "1", "sku": "SKU-1", "quantity": 1, "uom": "Units"}],
        "extensions": {"parcel": {"weight_kg": 1.5}, "label_format": "PDF"},
    }


def bare_label(session, base_url, index):
    """The carrier floor: the three calls of a label, nothing else."""
    body = {
        "shipment": {
            "reference": f"BENCH-BARE-{uuid.uuid4().hex[:10]}-{index}",
            "to_address": {**ADDRESS, "street1": ADDRESS["street"]},
            "from_address": {**ADDRESS, "street1": ADDRESS["street"]},
            "parcel": {"weight": 52.9},
            "options": {"label_format": "PDF"},
        }
    }
    shipment = session.post(f"{base_url}/v2/shipments", json=body, timeout=10).json()
    rate = next(r for r in shipment["rates"] if r["service"] == "Priority")
    bought = session.post(
        f"{base_url}/v2/shipments/{shipment['id']}/buy",
        json={"rate": {"id": rate["id"]}},
        timeout=10,
    ).json()
    session.get(bought["postage_label"]["label_pdf_url"], timeout=10)


def make_backend(env, sandbox, code):
    existing = (
        env["logistics.backend"].with_context(active_test=False).search([("code", "=", code)])
    )
    if existing:
        existing.endpoint_ids.base_url = sandbox.base_url
        existing._breaker_record_success()  # an earlier, interrupted run may have opened it
        return existing
    return env["logistics.backend"].create(
        {
            "name": f"Bench carrier {code}",
            "code": code,
            "kind": "carrier",
            "adapter": "easypost",
            "sync_deadline": 10,
            "endpoint_ids": [
                (0, 0, {"environment": "test", "base_url": sandbox.base_url,
                        "auth_kind": "basic", "username": API_KEY})
            ],
        }
    )  # fmt: skip


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(round(share * (len(ordered) - 1)), len(ordered) - 1)]


def bench_labels(registry, sandbox):
    session = requests.Session()
    session.auth = (API_KEY, "")
    started = time.perf_counter()
    for index in range(N_LABELS):
        bare_label(session, sandbox.base_url, index)
    floor = time.perf_counter() - started

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        backend = make_backend(env, sandbox, "bench_carrier")
        cr.commit()
        started = time.perf_counter()
        for index in range(N_LABELS):
            env["logistics.message"]._create_outbound(
                backend, "label", document=label_document(index), idempotency_key=uuid.uuid4().hex
            )
            cr.commit()
        done = perform_pending_jobs(env, backend.channel_name)
        queued = time.perf_counter() - started
    print("\nLabels through the queue (create shipment, buy, download the label)")
    print(f"  {'scenario':<52} {'labels/min':>11} {'ms each':>9} {'ratio':>8}")
    for name, count, seconds in (
        ("baseline: the 3 calls bare, one session", N_LABELS, floor),
        ("outbox + queue_job job -> adapter -> carrier", done, queued),
    ):
        per_minute = 60 * count / seconds
        print(
            f"  {name:<52} {per_minute:>11.0f} {1000 * seconds / count:>9.2f} "
            f"{(floor / N_LABELS) / (seconds / count):>7.2f}x"
        )

    added = []
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        backend = env["logistics.backend"].search([("code", "=", "bench_carrier")])
        for index in range(N_LABELS):
            started = time.perf_counter()
            bare_label(session, sandbox.base_url, index)
            bare = time.perf_counter() - started
            started = time.perf_counter()
            outcome = env["logistics.message"]._exchange_now(
                backend, "label", document=label_document(index), idempotency_key=uuid.uuid4().hex
            )
            synchronous = time.perf_counter() - started
            if outcome.done:
                added.append(synchronous - bare)
            else:
                print(f"  label {index} not bought while waiting: {outcome.state} {outcome.error}")
            cr.commit()
    if not added:
        return
    print("\nSynchronous label purchase (what a validation waits for)")
    print(
        f"  added over the bare calls: median {1000 * statistics.median(added):.1f} ms, "
        f"p95 {1000 * percentile(added, 0.95):.1f} ms over {len(added)} labels (target <= 50 ms)"
    )


def bench_rate_shopping(registry):
    sandboxes = [CarrierSandbox(api_keys={API_KEY: "test"}).start() for _ in range(3)]
    try:
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            us = env.ref("base.us")
            env.company.partner_id.write(
                {"street": "500 Warehouse Way", "city": "Memphis", "zip": "38118",
                 "country_id": us.id}
            )  # fmt: skip
            warehouse = env["stock.warehouse"].search(
                [("company_id", "=", env.company.id)], limit=1
            )
            warehouse.partner_id = env.company.partner_id
            customer = env["res.partner"].create(
                {"name": "Bench customer", "street": "1 Loop Road", "city": "Springfield",
                 "zip": "12345", "country_id": us.id}
            )  # fmt: skip
            product = env["product.product"].create({"name": "Bench widget", "weight": 2.0})
            delivery = env["product.product"].create({"name": "Bench shipping", "type": "service"})
            carriers = env["delivery.carrier"]
            for number, sandbox in enumerate(sandboxes):
                backend = make_backend(env, sandbox, f"bench_rates_{number}")
                carriers |= env["delivery.carrier"].create(
                    {
                        "name": f"Bench rates {number}",
                        "delivery_type": "logistics",
                        "product_id": delivery.id,
                        "logistics_backend_id": backend.id,
                        "logistics_service": "Priority",
                        "logistics_rate_cache_seconds": 0,
                    }
                )
            order = env["sale.order"].create(
                {"partner_id": customer.id,
                 "order_line": [(0, 0, {"product_id": product.id, "product_uom_qty": 1})]}
            )  # fmt: skip
            cr.commit()
            rounds = 10
            for sandbox, seconds in zip(sandboxes, (0.2, 0.3, 0.4), strict=True):
                sandbox.inject("latency", count=2 * rounds, seconds=seconds, path_prefix="/v2/")
            slowest = []
            for _round in range(rounds):
                started = time.perf_counter()
                carriers[2].rate_shipment(order)
                slowest.append(time.perf_counter() - started)
                cr.commit()
            compared = []
            for _round in range(rounds):
                wizard = env["logistics.rate.shopping"].create(
                    {"order_id": order.id, "carrier_ids": [(6, 0, carriers.ids)]}
                )
                cr.commit()
                started = time.perf_counter()
                wizard.action_compare()
                compared.append(time.perf_counter() - started)
                cr.commit()
            ok = len(wizard.line_ids.filtered("success"))
    finally:
        for sandbox in sandboxes:
            sandbox.stop()
    slow, both = statistics.median(slowest), statistics.median(compared)
    print("\nRate shopping across 3 carriers (answering in 0.2 s, 0.3 s, 0.4 s)")
    print(f"  slowest carrier alone: {1000 * slow:.0f} ms (median of {rounds})")
    print(
        f"  all three compared:    {1000 * both:.0f} ms ({ok}/3 rated)  -> {both / slow:.2f}x "
        "the slowest alone (sequential calls would be about 2.25x)"
    )


def main():
    odoo.tools.config.parse_config(
        [
            "-c",
            os.environ["LC_ODOO_CONF"],
            f"--addons-path={os.environ['LC_BENCH_ADDONS_PATH']}",
            "--log-level=warn",
        ]
    )
    logging.getLogger("tests.sandboxes").setLevel(logging.WARNING)
    registry = Registry(os.environ["LC_BENCH_DB"])
    sandbox = CarrierSandbox(api_keys={API_KEY: "test"}).start()
    try:
        bench_labels(registry, sandbox)
    finally:
        sandbox.stop()
    bench_rate_shopping(registry)


if __name__ == "__main__":
    main()
