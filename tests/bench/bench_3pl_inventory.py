"""Benchmark: a 3PL's whole-warehouse inventory snapshot reconciled with Odoo's stock.

A warehouse of LC_BENCH_3PL_INVENTORY_LINES (default 100,000) counted lines: 90 % products
without tracking (one quant each), 10 % lots of lot-tracked products (two lots per product),
loaded with SQL (the products copied from one made by the ORM, their lots and quants
inserted) the first time and kept for the next runs (the warehouse's quants are reset). The
ShipBob-like partner counts them all (its pulled inventory: every SKU, lots apart) with a few
differences: one line in 200 is one unit off (within the partner's 2-unit tolerance: adjusted
through Odoo's inventory adjustment), one in 1,000 is ten units off (an exception for a
person). The snapshot is stored as the
inbound message _pull_inventory stores, then its job runs in a fresh Odoo process, as
queue_job's runner would run it: decode, schema check, the base's reconciliation (report,
adjustments, exception).

Figures: the job's seconds, and the peak memory of the process that ran it (its resident set
when the job started and its peak during the job, reset just before: the job's own memory is
the difference); apart, the schema check of the same document alone, timed after the job.
Target: <= 30 s and <= 500 MB. Run by `scripts/bench` or alone:
`LC_ODOO_CONF=.local/odoo-bench.conf LC_BENCH_DB=lc_bench python -m
tests.bench.bench_3pl_inventory`. Nothing here asserts: it prints figures.
"""

import json
import os
import resource
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry

N_LINES = int(os.environ.get("LC_BENCH_3PL_INVENTORY_LINES", "100000"))
LOT_SHARE = 10  # percent of the lines that are lots of lot-tracked products
LOTS_PER_PRODUCT = 2
ON_HAND = 10.0
ADJUSTED_EVERY = 200  # one unit off: within the tolerance, adjusted
EXCEPTION_EVERY = 1000  # ten units off: beyond it, a person looks
TOLERANCE = 2.0
CENTER = "31"
# The products of this scenario carry this prefix (kept from run to run, one set per size).
PREFIX = f"LCINV{N_LINES}"
TIME_TARGET = 30.0
MEMORY_TARGET_MB = 500.0


def clone_rows(cr, table, source_id, count, overrides):
    """Insert ``count`` copies of row ``source_id`` of ``table`` (n = 1..count in the SQL
    expressions of ``overrides``, column -> expression); returns nothing (the caller finds the
    rows by what it set)."""
    cr.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
        "AND column_name <> 'id' ORDER BY ordinal_position",
        (table,),
    )
    columns = [row[0] for row in cr.fetchall()]
    names = ", ".join(f'"{column}"' for column in columns)
    selected = ", ".join(overrides.get(column, f'src."{column}"') for column in columns)
    cr.execute(
        f'INSERT INTO "{table}" ({names}) SELECT {selected} '
        f'FROM "{table}" src, generate_series(1, %s) n WHERE src.id = %s',
        (count, source_id),
    )


def plan():
    """The lines of the warehouse: (sku, lot or None) in order."""
    lot_lines = N_LINES * LOT_SHARE // 100
    tracked = lot_lines // LOTS_PER_PRODUCT
    plain = N_LINES - tracked * LOTS_PER_PRODUCT
    return plain, tracked


def setup(registry):
    """The partner, its warehouse and the counted products, lots and quants; returns ids."""
    plain, tracked = plan()
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        warehouse = env["stock.warehouse"].search([("code", "=", "LCINV")], limit=1)
        if not warehouse:
            warehouse = env["stock.warehouse"].create({"name": "Bench inventory", "code": "LCINV"})
        backend = env["logistics.backend"].search([("code", "=", "bench_inventory")], limit=1)
        if not backend:
            backend = env["logistics.backend"].create(
                {
                    "name": "Bench inventory 3PL",
                    "code": "bench_inventory",
                    "adapter": "shipbob",
                    "mapping_ids": [
                        (
                            0,
                            0,
                            {
                                "mapping_type": "warehouse",
                                "odoo_value": warehouse.code,
                                "partner_value": CENTER,
                            },
                        )
                    ],
                }
            )
        backend.write(
            {
                "inventory_policy": "adjust_within_tolerance",
                "inventory_tolerance": TOLERANCE,
                "inventory_tolerance_type": "units",
            }
        )
        location = warehouse.lot_stock_id
        products = env["product.product"].with_context(active_test=False)
        have = products.search_count([("default_code", "=like", f"{PREFIX}-%")])
        if have and have != plain + tracked:
            raise RuntimeError(f"{have} products {PREFIX}-*: an earlier load broke; use --reset")
        if not have:
            load_products(env, plain, tracked)
        # The same stock at each run: the warehouse holds these products only, each quant
        # made anew.
        cr.execute("DELETE FROM stock_quant WHERE location_id = %s", (location.id,))
        load_quants(env, location)
        env.invalidate_all()
        return {"backend": backend.id, "location": location.id, "plain": plain, "tracked": tracked}


def load_products(env, plain, tracked):
    """The products (and lots) by SQL, copied from one made by the ORM."""
    cr = env.cr
    model = env["product.product"].create({"name": "Bench inventory model", "is_storable": True})
    env.flush_all()
    for first, count, tracking in ((1, plain, "none"), (plain + 1, tracked, "lot")):
        code = f"'{PREFIX}-' || lpad((n + {first - 1})::text, 7, '0')"
        clone_rows(
            cr,
            "product_template",
            model.product_tmpl_id.id,
            count,
            {
                "name": f"jsonb_build_object('en_US', 'Bench counted ' || {code})",
                "default_code": code,
                "tracking": f"'{tracking}'",
            },
        )
    cr.execute(
        "INSERT INTO product_product (product_tmpl_id, default_code, active, "
        "combination_indices, create_uid, create_date, write_uid, write_date) "
        "SELECT t.id, t.default_code, true, '', 1, now(), 1, now() FROM product_template t "
        "WHERE t.default_code LIKE %s "
        "AND NOT EXISTS (SELECT 1 FROM product_product p WHERE p.product_tmpl_id = t.id)",
        (f"{PREFIX}-%",),
    )
    for number in range(1, LOTS_PER_PRODUCT + 1):
        cr.execute(
            "SELECT id FROM product_product WHERE default_code LIKE %s AND default_code > %s "
            "ORDER BY default_code",
            (f"{PREFIX}-%", f"{PREFIX}-{plain:07d}"),
        )
        ids = [row[0] for row in cr.fetchall()]
        cr.execute(
            "INSERT INTO stock_lot (name, product_id, company_id, create_uid, create_date, "
            "write_uid, write_date) "
            "SELECT %s, id, %s, 1, now(), 1, now() FROM unnest(%s::int[]) id",
            (f"L{number}", env.company.id, ids),
        )
    model.active = False


def load_quants(env, location):
    cr = env.cr
    cr.execute(
        "INSERT INTO stock_quant (product_id, location_id, lot_id, company_id, quantity, "
        "reserved_quantity, in_date, inventory_quantity_set, create_uid, create_date, "
        "write_uid, write_date) "
        "SELECT p.id, %(location)s, l.id, %(company)s, %(on_hand)s, 0, now(), false, 1, now(), "
        "1, now() FROM product_product p LEFT JOIN stock_lot l ON l.product_id = p.id "
        "WHERE p.default_code LIKE %(prefix)s AND p.active",
        {
            "location": location.id,
            "company": location.company_id.id,
            "on_hand": ON_HAND,
            "prefix": f"{PREFIX}-%",
        },
    )


def snapshot(env):
    """The partner's pulled inventory: every SKU, lots apart, with the planned differences."""
    env.cr.execute(
        "SELECT p.default_code, l.name FROM product_product p LEFT JOIN stock_lot l "
        "ON l.product_id = p.id WHERE p.default_code LIKE %s AND p.active "
        "ORDER BY p.default_code, l.name",
        (f"{PREFIX}-%",),
    )
    items, lots, adjusted, exceptions = {}, {}, 0, 0
    for index, (sku, lot) in enumerate(env.cr.fetchall(), start=1):
        on_hand = ON_HAND
        if index % EXCEPTION_EVERY == 0:
            on_hand += 10
            exceptions += 1
        elif index % ADJUSTED_EVERY == 0:
            on_hand += 1
            adjusted += 1
        center = {
            "id": int(CENTER),
            "onhand_quantity": on_hand,
            "fulfillable_quantity": on_hand,
            "committed_quantity": 0,
        }
        item = items.setdefault(sku, {"id": index, "sku": sku, "name": sku})
        if lot:
            lots.setdefault(sku, []).append(
                {"lot_number": lot, "fulfillable_quantity_by_fulfillment_center": [center]}
            )
            item["fulfillable_quantity_by_lot"] = lots[sku]
        else:
            item["fulfillable_quantity_by_fulfillment_center"] = [center]
    return list(items.values()), adjusted, exceptions


def store_snapshot(registry, ids):
    """The snapshot as _pull_inventory stores it: one raw inbound message (and its job)."""
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        items, adjusted, exceptions = snapshot(env)
        taken_at = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        raw = json.dumps(
            {"fulfillment_center": CENTER, "taken_at": taken_at, "inventory": items}
        ).encode()
        backend = env["logistics.backend"].browse(ids["backend"])
        message, _created = env["logistics.message"]._create_inbound(
            backend, "inventory_snapshot", raw, event_id=f"bench-inventory:{taken_at}"
        )
        return message.id, len(raw), adjusted, exceptions


def resident_kb(field):
    """VmRSS or VmHWM (the peak, resettable) of this process, in kB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def reconcile(message_id):
    """In a fresh process: run the snapshot's job as queue_job would; print its figures."""
    from tests.bench.bench_3pl import run_jobs

    odoo.tools.config.parse_config(["-c", os.environ["LC_ODOO_CONF"], "--log-level=warn"])
    registry = Registry(os.environ["LC_BENCH_DB"])
    from odoo.addons.logistics_connector_base.lib import canonical  # once the addons are found

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        message = env["logistics.message"].browse(message_id)
        channel, job_uuid = message.backend_id.channel_name, message.job_uuid
    before = resident_kb("VmRSS")
    try:
        # Linux: writing 5 resets the peak resident set (VmHWM) to the current one.
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
        peak_field = "VmHWM"
    except OSError:
        peak_field = None
    stop, done = threading.Event(), []
    stop.set()
    start = time.perf_counter()
    run_jobs(registry, channel, stop, done, uuids=[job_uuid])
    seconds = time.perf_counter() - start
    peak = (
        resident_kb(peak_field)
        if peak_field
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    )
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        message = env["logistics.message"].browse(message_id)
        report = env["logistics.inventory.report"].browse(message.res_id)
        # The schema check of the same document alone, after the job (not in its figures).
        document = message.backend_id._get_adapter()._decode(message)[0]
        start = time.perf_counter()
        canonical.validate(document)
        check_seconds = time.perf_counter() - start
        figures = {
            "seconds": seconds,
            "check_seconds": check_seconds,
            "jobs": len(done),
            "state": message.state,
            "error": message.error_message,
            "before_kb": before,
            "peak_kb": peak,
            "lines": report.line_count,
            "adjusted": report.adjusted_count,
            "exceptions": report.exception_count,
        }
    print(json.dumps(figures))


def main():
    odoo.tools.config.parse_config(["-c", os.environ["LC_ODOO_CONF"], "--log-level=warn"])
    os.environ.setdefault("ODOO_QUEUE_JOB_CHANNELS", "root:0")
    registry = Registry(os.environ["LC_BENCH_DB"])
    started = time.perf_counter()
    ids = setup(registry)
    loaded = time.perf_counter() - started
    message_id, size, adjusted, exceptions = store_snapshot(registry, ids)
    worker = subprocess.run(
        [sys.executable, "-m", "tests.bench.bench_3pl_inventory", "--reconcile", str(message_id)],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        figures = json.loads(worker.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        print(worker.stdout, worker.stderr)
        raise
    mb = 1024.0
    print(
        f"\n3PL inventory snapshot, {N_LINES:,} lines ({ids['plain']:,} products, "
        f"{ids['tracked']:,} lot-tracked products x {LOTS_PER_PRODUCT} lots), "
        f"{size / mb / mb:.1f} MB of JSON; setup {loaded:.0f} s"
    )
    print(
        f"  job ({figures['state']}): decode + schema check + reconciliation: "
        f"{figures['seconds']:.1f} s ({N_LINES / figures['seconds']:,.0f} lines/s) "
        f"(target <= {TIME_TARGET:.0f} s)"
    )
    print(
        f"  of which the schema check of the document (timed again, alone, after the job): "
        f"{figures['check_seconds']:.1f} s"
    )
    print(
        f"  memory of the process that ran it: {figures['before_kb'] / mb:.0f} MB at the "
        f"start, peak {figures['peak_kb'] / mb:.0f} MB: the job took "
        f"{(figures['peak_kb'] - figures['before_kb']) / mb:.0f} MB "
        f"(target <= {MEMORY_TARGET_MB:.0f} MB)"
    )
    print(
        f"  report: {figures['lines']:,} lines, {figures['adjusted']} adjusted (planned "
        f"{adjusted}), {figures['exceptions']} for a person (planned {exceptions}); "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    if figures["error"]:
        print(f"  error: {figures['error']}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--reconcile"]:
        reconcile(int(sys.argv[2]))
    else:
        main()
