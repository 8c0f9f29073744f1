"""Benchmark: the 3PL flows against the ShipBob-like sandbox, each with a baseline measured in
the same run on the same machine.

- release: N delivery orders made ready one by one (one commit each, as people confirming
  orders), each released by the automated action (outbox message + job), the jobs run by
  LC_BENCH_3PL_WORKERS worker threads with queue_job's own worker code (the job started and
  committed, then performed and committed), until
  every order is acknowledged by the sandbox. Figures: orders per minute from the first ready
  picking to the last acknowledgement, and the p50/p95 latency of a release (message created
  -> done). Baseline: the same N deliveries made ready in a warehouse no 3PL operates (Odoo's
  own cost). Target: >= 600 orders/minute on 2 cores.
- shipments: the N released orders shipped by the sandbox (20 % partial), their order.shipped
  events stored as inbound messages and applied by their jobs (decode, schema check, the base's
  shipment applier validating the delivery with the tracking number and its backorder).
  Baseline: what a person does in Odoo for N identical deliveries (the same quantities typed,
  the tracking number, Validate with a backorder; one transaction each). Both are measured in
  turns of 10 orders so that they see the same machine load. Target: the applier <= 1.3x the
  direct validation.

The sandbox's 150 requests/minute limit is lifted here (a real ShipBob account would cap
releases at 150/minute: set the partner's request rate limit to 2.5/s). Run by `scripts/bench`
or alone: `LC_ODOO_CONF=.local/odoo-bench.conf LC_BENCH_DB=lc_bench python -m
tests.bench.bench_3pl`. Nothing here asserts: it prints figures.
"""

import json
import logging
import os
import secrets
import statistics
import threading
import time
from datetime import datetime, timezone

import psycopg2

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.service.model import PG_CONCURRENCY_ERRORS_TO_RETRY
from odoo.tools import SQL
from tests.bench.bench_pipeline import run_as_the_runner
from tests.sandboxes.threepl_partner import ThreePLSandbox

N_ORDERS = int(os.environ.get("LC_BENCH_3PL_ORDERS", "1000"))
WORKERS = int(os.environ.get("LC_BENCH_3PL_WORKERS", "2"))
PRODUCERS = int(os.environ.get("LC_BENCH_3PL_PRODUCERS", "2"))
PARTIAL_EVERY = 5  # one order in five ships partially (20 %)
SHIPMENT_ROUND = 10  # shipment confirmations and direct validations measured in turns
TOKEN = "bench-shipbob-pat"
SECRET = "whsec_YmVuY2gtM3BsLXNlY3JldC1mb3ItdGhlLXN1aXRlIQ=="


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * share), len(ordered) - 1)] if ordered else float("nan")


def setup(registry, sandbox):
    """Committed fixtures of this run: a 3PL warehouse and a plain one, a partner, products."""
    tag = secrets.token_hex(2).upper()
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        warehouses = env["stock.warehouse"]
        plain = warehouses.create({"name": f"Bench plain {tag}", "code": f"P{tag}"})
        operated = warehouses.create({"name": f"Bench 3PL {tag}", "code": f"T{tag}"})
        backend = env["logistics.backend"].create(
            {
                "name": f"Bench ShipBob {tag}",
                "code": f"bench_shipbob_{tag.lower()}",
                "adapter": "shipbob",
                "default_service_level": "Standard",
                "webhook_secret": SECRET,
                "endpoint_ids": [
                    (
                        0,
                        0,
                        {
                            "environment": "test",
                            "base_url": sandbox.api_url,
                            "auth_kind": "bearer",
                            "token": TOKEN,
                        },
                    )
                ],
                "mapping_ids": [
                    (
                        0,
                        0,
                        {
                            "mapping_type": "warehouse",
                            "odoo_value": operated.code,
                            "partner_value": "10",
                        },
                    )
                ],
            }
        )
        operated.logistics_backend_id = backend
        customer = env["res.partner"].create(
            {
                "name": "Bench Customer",
                "street": "1 Loop Road",
                "city": "Localhost",
                "zip": "12345",
                "country_id": env.ref("base.be").id,
            }
        )
        # Each person ships products of their own: two people reserving the same stock at
        # once is a serialization conflict, not what is measured here.
        products = env["product.product"].create(
            [
                {
                    "name": f"Bench {name}{n} {tag}",
                    "default_code": f"B{name}{n}-{tag}",
                    "is_storable": True,
                }
                for n in range(PRODUCERS)
                for name in ("A", "B")
            ]
        )
        for warehouse in (plain, operated):
            for product in products:
                env["stock.quant"]._update_available_quantity(
                    product, warehouse.lot_stock_id, N_ORDERS * 3
                )
        return {
            "plain": plain.id,
            "operated": operated.id,
            "backend": backend.id,
            "channel": backend.channel_name,
            "customer": customer.id,
            "products": products.ids,
        }


def make_ready(registry, ids, warehouse_id, person=0):
    """One delivery (2 lines) made ready in its own transaction; returns its id."""
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        warehouse = env["stock.warehouse"].browse(warehouse_id)
        customers = env.ref("stock.stock_location_customers")
        source = warehouse.lot_stock_id
        products = env["product.product"].browse(ids["products"][2 * person : 2 * person + 2])
        picking = env["stock.picking"].create(
            {
                "picking_type_id": warehouse.out_type_id.id,
                "partner_id": ids["customer"],
                "location_id": source.id,
                "location_dest_id": customers.id,
                "move_ids": [
                    (
                        0,
                        0,
                        {
                            "name": product.name,
                            "product_id": product.id,
                            "product_uom_qty": quantity,
                            "product_uom": product.uom_id.id,
                            "location_id": source.id,
                            "location_dest_id": customers.id,
                        },
                    )
                    for product, quantity in zip(products, (2, 1), strict=True)
                ],
            }
        )
        picking.action_confirm()
        picking.action_assign()
        return picking.id


def run_jobs(registry, channel, stop, counter, uuids=None):
    """A worker: claims the channel's pending jobs one at a time, as queue_job's runner hands
    them out (marked enqueued), and performs each with queue_job's own worker code
    (run_as_the_runner). A job another worker holds is left to it; one postponed by a
    concurrency error comes back, as in queue_job. With ``uuids``: those jobs, in that order
    (queue_job's runner knows which job it hands out; a search of the channel's pending jobs
    would cost more as the channel's done jobs pile up)."""
    todo = list(uuids or [])
    while True:
        with registry.cursor() as cr:
            if uuids is not None:
                claim = SQL(
                    "SELECT id FROM queue_job WHERE uuid = %s AND state = 'pending' "
                    "FOR UPDATE SKIP LOCKED",
                    todo[0] if todo else None,
                )
            else:
                claim = SQL(
                    "SELECT id FROM queue_job WHERE state = 'pending' AND channel = %s "
                    "AND (eta IS NULL OR eta <= now() at time zone 'UTC') "
                    "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED",
                    channel,
                )
            try:
                cr.execute(
                    SQL(
                        "UPDATE queue_job SET state = 'enqueued', "
                        "date_enqueued = now() at time zone 'UTC' WHERE id = (%s) RETURNING uuid",
                        claim,
                    )
                )
            except psycopg2.OperationalError as error:
                if error.pgcode not in PG_CONCURRENCY_ERRORS_TO_RETRY:
                    raise
                cr.rollback()
                continue  # another worker changed the job meanwhile: look again
            row = cr.fetchone()
            cr.commit()
            if todo:
                todo.pop(0)
            if not row and uuids is not None and todo:
                continue  # done or held by someone else: the next one
            if not row:
                if stop.is_set():
                    return
                time.sleep(0.01)
                continue
            job = run_as_the_runner(api.Environment(cr, SUPERUSER_ID, {}), row[0])
            if job and job.state == "done":
                counter.append(1)


def make_many_ready(registry, ids, warehouse_id, count, threads):
    """``count`` deliveries made ready by ``threads`` people at once; returns their ids."""
    made, lock = [], threading.Lock()

    def person(number, share):
        for _ in range(share):
            for _attempt in range(10):
                try:
                    picking_id = make_ready(registry, ids, warehouse_id, number)
                    break
                except psycopg2.OperationalError as error:
                    # Two people reserving the same stock: Odoo's answer is to try again.
                    if error.pgcode not in PG_CONCURRENCY_ERRORS_TO_RETRY:
                        raise
            else:
                raise RuntimeError("a delivery could not be made ready after 10 tries")
            with lock:
                made.append(picking_id)

    shares = [count // threads + (1 if n < count % threads else 0) for n in range(threads)]
    people = [
        threading.Thread(target=person, args=(number, share)) for number, share in enumerate(shares)
    ]
    for thread in people:
        thread.start()
    for thread in people:
        thread.join()
    return made


def bench_release(registry, ids):
    start = time.perf_counter()
    make_many_ready(registry, ids, ids["plain"], N_ORDERS, PRODUCERS)
    plain_seconds = time.perf_counter() - start

    stop, done_jobs = threading.Event(), []
    workers = [
        threading.Thread(target=run_jobs, args=(registry, ids["channel"], stop, done_jobs))
        for _ in range(WORKERS)
    ]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    pickings = make_many_ready(registry, ids, ids["operated"], N_ORDERS, PRODUCERS)
    while True:
        with registry.cursor() as cr:
            cr.execute(
                "SELECT count(*) FROM stock_picking WHERE id = ANY(%s) AND logistics_status = "
                "'acknowledged'",
                (pickings,),
            )
            if cr.fetchone()[0] >= N_ORDERS:
                break
        time.sleep(0.05)
    seconds = time.perf_counter() - start
    stop.set()
    for worker in workers:
        worker.join()
    with registry.cursor() as cr:
        # From the message (written with the ready picking) to its attempt's end, both
        # stamped by PostgreSQL to the microsecond.
        cr.execute(
            "SELECT EXTRACT(EPOCH FROM a.finished_at - m.create_date) FROM logistics_message m "
            "JOIN logistics_message_attempt a ON a.message_id = m.id AND a.outcome = 'done' "
            "WHERE m.backend_id = %s AND m.flow = 'order_release'",
            (ids["backend"],),
        )
        latencies = [row[0] for row in cr.fetchall()]
    print(
        f"\n3PL order release, {N_ORDERS} deliveries (2 lines), {PRODUCERS} people making them "
        f"ready at once, {WORKERS} job workers"
    )
    print(f"  {'scenario':<58} {'orders/min':>11} {'ratio':>7}")
    print(
        f"  {'baseline: made ready in a warehouse without a 3PL':<58} "
        f"{N_ORDERS / plain_seconds * 60:>11.0f} {1:>6.2f}x"
    )
    print(
        f"  {'ready -> released -> acknowledged by the sandbox':<58} "
        f"{N_ORDERS / seconds * 60:>11.0f} {plain_seconds / seconds:>6.2f}x"
    )
    print(
        f"  release latency (message created -> done): p50 {statistics.median(latencies):.2f} s, "
        f"p95 {percentile(latencies, 0.95):.2f} s (target: >= 600 orders/min)"
    )
    return pickings


def shipment_events(sandbox, pickings_by_name):
    """The sandbox ships every order (one in five partially) and gives its order.shipped
    bodies, as its webhooks would carry them, with the tracking numbers they carry."""
    events = []
    for index, name in enumerate(pickings_by_name):
        order = sandbox.order(name)
        partial = index % PARTIAL_EVERY == 0
        quantities = {order["products"][0]["reference_id"]: 1} if partial else None
        sandbox.ship(name, quantities)
        view = sandbox._order_view(sandbox.order(name))
        envelope = {
            "type": "order.shipped",
            "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "data": view,
        }
        tracking = [
            shipment["tracking"]["tracking_number"]
            for shipment in view.get("shipments") or []
            if (shipment.get("tracking") or {}).get("tracking_number")
        ]
        events.append((json.dumps(envelope).encode(), partial, ",".join(tracking)))
    return events


def validate_directly(registry, ids, partial, tracking):
    """What a person does in Odoo for the same shipment: type the quantities shipped (the
    form saves each changed line in one write), the tracking number, then Validate, the rest
    going to a backorder. Returns the seconds it took, commit included."""
    picking_id = make_ready(registry, ids, ids["plain"])
    start = time.perf_counter()
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        picking = env["stock.picking"].browse(picking_id)
        if tracking:
            picking.carrier_tracking_ref = tracking
        for move in picking.move_ids:
            quantity = (
                1
                if partial and move.product_uom_qty == 2
                else (0 if partial else move.product_uom_qty)
            )
            values = {"picked": bool(quantity)}
            if quantity != move.quantity:
                values = {"quantity": quantity, **values}
            move.write(values)
        picking.with_context(skip_backorder=True, skip_sms=True).button_validate()
    return time.perf_counter() - start


def apply_events(registry, ids, events):
    """The events stored as inbound messages (as the webhook controller does, not timed),
    then their jobs run one after the other; returns the seconds the jobs took and the
    messages' ids."""
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        backend = env["logistics.backend"].browse(ids["backend"])
        messages = env["logistics.message"]
        for body, _partial, _tracking in events:
            message, _created = messages._create_inbound(backend, "shipment", body)
            messages |= message
        message_ids, uuids = messages.ids, messages.mapped("job_uuid")
    stop, done_jobs = threading.Event(), []
    stop.set()
    start = time.perf_counter()
    run_jobs(registry, ids["channel"], stop, done_jobs, uuids=uuids)
    return time.perf_counter() - start, message_ids


def bench_shipments(registry, ids, sandbox, pickings):
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        names = env["stock.picking"].browse(pickings).mapped("name")
    events = shipment_events(sandbox, names)
    # Both sides in turns of SHIPMENT_ROUND orders, each side first every other round: on a
    # shared machine whose load changes, both see the same load and the ratio stays honest.
    baseline = applied = 0.0
    message_ids, turns = [], []
    for number, first in enumerate(range(0, len(events), SHIPMENT_ROUND)):
        chunk = events[first : first + SHIPMENT_ROUND]

        def direct(chunk=chunk):
            return sum(
                validate_directly(registry, ids, partial, tracking)
                for _body, partial, tracking in chunk
            )

        if number % 2:
            direct_seconds = direct()
            job_seconds, chunk_ids = apply_events(registry, ids, chunk)
        else:
            job_seconds, chunk_ids = apply_events(registry, ids, chunk)
            direct_seconds = direct()
        baseline += direct_seconds
        applied += job_seconds
        message_ids += chunk_ids
        turns.append((job_seconds, direct_seconds))
    with registry.cursor() as cr:
        cr.execute(
            "SELECT state, count(*) FROM logistics_message WHERE id = ANY(%s) GROUP BY state",
            (message_ids,),
        )
        states = dict(cr.fetchall())
    print(
        f"\n3PL shipment confirmations, {N_ORDERS} orders ({100 // PARTIAL_EVERY} % partial), "
        f"in turns of {SHIPMENT_ROUND} against the direct validation"
    )
    print(f"  {'scenario':<58} {'per second':>11} {'ratio':>7}")
    print(
        f"  {'baseline: Odoo validates the same deliveries directly':<58} "
        f"{N_ORDERS / baseline:>11.1f} {1:>6.2f}x"
    )
    print(
        f"  {'event job: decode + check + shipment applier':<58} "
        f"{N_ORDERS / applied:>11.1f} {applied / baseline:>6.2f}x time (target <= 1.3x)"
    )
    quarter = max(len(turns) // 4, 1)
    quarters = [turns[start : start + quarter] for start in range(0, len(turns), quarter)]
    print(
        "  ratio by quarter of the run: "
        + ", ".join(
            f"{sum(job for job, _ in part) / sum(direct for _, direct in part):.2f}x"
            for part in quarters
        )
        + f"; load average {os.getloadavg()[0]:.1f}"
    )
    print(f"  messages: {states}")


def main():
    odoo.tools.config.parse_config(["-c", os.environ["LC_ODOO_CONF"], "--log-level=warn"])
    os.environ.setdefault("ODOO_QUEUE_JOB_CHANNELS", "root:0")
    logging.getLogger("tests.sandboxes").setLevel(logging.WARNING)
    registry = Registry(os.environ["LC_BENCH_DB"])
    with ThreePLSandbox(token=TOKEN, webhook_secret=SECRET, rate_limit=10**9) as sandbox:
        ids = setup(registry, sandbox)
        pickings = bench_release(registry, ids)
        bench_shipments(registry, ids, sandbox, pickings)


if __name__ == "__main__":
    main()
