"""Benchmark: the screens and crons of the suite at 10,000 messages / 1,000 exceptions and at
1,000,000 messages / 100,000 exceptions (LC_BENCH_SCALE_MESSAGES, LC_BENCH_SCALE_EXCEPTIONS).

The rows are loaded with SQL (generate_series) into the real tables of a copy of the bench
database (<LC_BENCH_DB>_scale, made with CREATE DATABASE ... TEMPLATE and dropped at the end),
with realistic values: several partners of unequal traffic, five messages per delivery order
(one release out, an acknowledgement, a shipment and tracking events in), states mostly done
with some failed, dead, waiting, queued (their queue_job jobs pending) and a few stuck ones whose
job is gone, acknowledgements awaited on some releases, exceptions mostly resolved with some
open. VACUUM ANALYZE after each load, as autovacuum would have done on a live database.

Measured at both sizes, as the web client or the cron worker calls them:
- screens (as the admin user, through the ORM, median of several runs): the Overview kanban,
  a reference search in the message list, a delivery order's smart buttons, the default
  message list with its count. Target: at most 3x their time at 10k.
- crons (one call = one bounded batch, rolled back after): overdue acknowledgements and
  stuck-message recovery, per call and per item. Target: bounded per call, flat per item.

For a screen over its target and for each cron, the slowest queries of one 1M run are printed
with the key lines of their EXPLAIN ANALYZE (LC_BENCH_SCALE_KEEP=1 keeps the database to look
further). Run by `scripts/bench`; nothing here asserts: it prints figures.
"""

import os
import shutil
import statistics
import threading
import time
from contextlib import closing

from lxml import etree

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.sql_db import close_db, db_connect

N_MESSAGES = int(os.environ.get("LC_BENCH_SCALE_MESSAGES", "1000000"))
N_EXCEPTIONS = int(os.environ.get("LC_BENCH_SCALE_EXCEPTIONS", str(N_MESSAGES // 10)))
SMALL_MESSAGES = min(10_000, N_MESSAGES)
SMALL_EXCEPTIONS = min(1_000, N_EXCEPTIONS)
REPEAT = int(os.environ.get("LC_BENCH_SCALE_REPEAT", "5"))
CRON_REPEAT = 2
# Keep the loaded database to look into a plan by hand (then drop it yourself).
KEEP_DB = os.environ.get("LC_BENCH_SCALE_KEEP") == "1"
SCREEN_TARGET = 3.0
# A delivery order among the first 10,000 messages: the same answer at both sizes.
PROBE_DOCUMENT = 1234
# Partners and their share of the traffic (percent).
PARTNER_SHARES = [40, 25, 15, 10, 5, 3, 2]
EXCEPTION_TYPES = [
    ("ack_overdue", "medium"),
    ("partner_rejected", "medium"),
    ("validation_error", "medium"),
    ("mapping_missing", "medium"),
    ("stockout", "high"),
    ("partial_shipment", "medium"),
    ("failed_delivery", "medium"),
    ("address_invalid", "medium"),
    ("partner_down", "high"),
    ("other", "low"),
]

# Messages i = 0..N-1; document d = i / 5 + doc_first, the sample delivery order's id (its
# five messages: k = i % 5); h, a: stable pseudo-random draws per message (per ten-thousand,
# per thousand).
LOAD_MESSAGES = """
WITH src AS (
    SELECT i,
           i / 5 + %(doc_first)s AS d,
           i %% 5 AS k,
           abs(hashtext('s' || i)::bigint) %% 10000 AS h,
           abs(hashtext('a' || i)::bigint) %% 1000 AS a,
           (%(backends)s::int[])[1 + abs(hashtext('b' || (i / 5 + %(doc_first)s))::bigint) %% 100]
               AS backend_id,
           %(now)s::timestamp - make_interval(secs => (%(total)s - i) * 31536000.0 / %(total)s)
               AS old_date
      FROM generate_series(%(lo)s, %(hi)s - 1) AS i
), typed AS (
    SELECT src.*,
           (ARRAY['order_release', 'ack', 'shipment', 'tracking_event', 'tracking_event'])[k + 1]
               AS flow,
           CASE WHEN k = 0 THEN 'outbound' ELSE 'inbound' END AS direction,
           CASE WHEN h < 9500 THEN 'done'
                WHEN h < 9600 THEN 'failed'
                WHEN h < 9650 THEN 'dead'
                WHEN h < 9750 THEN 'retry'
                WHEN h < 9850 THEN 'queued'
                WHEN h < 9870 THEN 'pending'
                WHEN h < 9880 THEN 'in_progress'
                WHEN h < 9890 THEN 'queued'    -- stuck: its job is gone
                WHEN h < 9950 THEN 'cancelled'
                ELSE 'duplicate' END AS state,
           h BETWEEN 9650 AND 9879 AS has_open_job,
           h BETWEEN 9650 AND 9889 AS is_open,
           'WH/OUT/' || lpad(d::text, 7, '0') AS reference,
           md5('story' || d) AS correlation_id
      FROM src
), dated AS (
    SELECT typed.*,
           -- open messages changed in the last two hours; the others over the last year
           CASE WHEN is_open THEN %(now)s::timestamp - make_interval(mins => ((h * 7) %% 120)::int)
                ELSE old_date END AS created
      FROM typed
)
INSERT INTO logistics_message (
    id, backend_id, company_id, flow, direction, state, correlation_id, idempotency_key,
    reference, external_id, res_model, res_id, document_schema, canonical_payload,
    wire_request, wire_headers, response_payload, content_hash, attempts, attempt_floor,
    max_attempts, next_attempt_at, error_class, error_message, job_uuid, queued_at, done_at,
    latency, acknowledged, ack_due_at, ack_overdue_raised,
    create_uid, write_uid, create_date, write_date
)
SELECT %(id_offset)s + i + 1, backend_id, %(company)s, flow, direction, state, correlation_id,
       CASE WHEN direction = 'outbound' THEN flow || ':stock.picking:' || d
            ELSE 'evt_' || md5('event' || i) END,
       reference,
       CASE WHEN direction = 'inbound' THEN 'evt_' || md5('event' || i)
            WHEN state = 'done' THEN 'PX-' || (9000000 + i) END,
       'stock.picking', d,
       CASE WHEN direction = 'outbound' THEN 'order_release/1' ELSE flow || '/1' END,
       CASE WHEN direction = 'outbound' THEN jsonb_build_object(
           'schema', 'order_release/1', 'reference', reference, 'warehouse_code', 'WH',
           'correlation_id', correlation_id,
           'ship_to', jsonb_build_object('name', 'Customer ' || d, 'street', d || ' Main St',
                                         'city', 'Springfield', 'zip', '12345', 'country', 'US'),
           'lines', jsonb_build_array(
               jsonb_build_object('line_ref', '1', 'sku', 'SKU-' || (d %% 5000), 'quantity', 2,
                                  'uom', 'EA'),
               jsonb_build_object('line_ref', '2', 'sku', 'SKU-' || (d %% 3000), 'quantity', 1,
                                  'uom', 'EA'))) END,
       CASE WHEN direction = 'inbound' THEN convert_to(replace(encode(convert_to(
           '{"type": "' || flow || '.updated", "data": {"reference": "' || reference
           || '", "tracking_number": "1Z' || (100000000 + i) || '", "status": "in_transit", '
           || '"occurred_at": "' || to_char(created, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || '"}}',
           'UTF8'), 'base64'), E'\\n', ''), 'UTF8') END,
       CASE WHEN direction = 'inbound' THEN jsonb_build_object(
           'Content-Type', 'application/json', 'webhook-id', 'evt_' || md5('event' || i),
           'webhook-signature', '***') END,
       CASE WHEN direction = 'outbound' AND state = 'done' THEN
           jsonb_build_object('id', 'PX-' || (9000000 + i), 'status', 'accepted') END,
       md5('c' || i) || md5('h' || i),
       CASE WHEN state = 'dead' THEN 5 WHEN state = 'retry' THEN 2
            WHEN state IN ('pending', 'queued') THEN 0 ELSE 1 END,
       0, 5,
       CASE WHEN state = 'retry' THEN %(now)s::timestamp + interval '10 minutes' END,
       CASE WHEN state IN ('failed', 'retry', 'dead') THEN
           (ARRAY['transient', 'business', 'validation'])[1 + h %% 3] END,
       CASE WHEN state IN ('failed', 'retry', 'dead') THEN
           'HTTP 503 from the partner: service unavailable, try again later' END,
       CASE WHEN state NOT IN ('cancelled', 'duplicate') THEN md5('job' || i) END,
       CASE WHEN state <> 'pending' THEN created + interval '1 second' END,
       CASE WHEN state = 'done' THEN created + interval '3 seconds' END,
       CASE WHEN state = 'done' THEN 3.0 END,
       -- releases done: acknowledged, except a few overdue (1%%), already raised (0.5%%) or
       -- not yet due (0.5%%)
       CASE WHEN k = 0 AND state = 'done' AND a >= 20 THEN TRUE END,
       CASE WHEN k = 0 AND state = 'done' THEN
           CASE WHEN a BETWEEN 15 AND 19 THEN %(now)s::timestamp + interval '2 hours'
                ELSE created + interval '4 hours' END END,
       CASE WHEN k = 0 AND state = 'done' AND a BETWEEN 10 AND 14 THEN TRUE END,
       1, 1, created, created + CASE WHEN state = 'done' THEN interval '3 seconds'
                                     ELSE interval '0' END
  FROM dated
"""

# Jobs of the open messages that wait on purpose (pending, enqueued or just started).
LOAD_JOBS = """
INSERT INTO queue_job (
    uuid, name, model_name, method_name, func_string, state, channel, identity_key,
    user_id, company_id, priority, max_retries, retry, records, args, kwargs,
    date_created, date_enqueued, date_started, eta
)
SELECT m.job_uuid, 'LCM' || lpad(m.id::text, 7, '0') || ': ' || m.flow || ' ' || m.direction,
       'logistics.message', '_process',
       'logistics.message(' || m.id || ',)._process()',
       CASE m.state WHEN 'in_progress' THEN 'started'
                    WHEN 'queued' THEN (ARRAY['pending', 'enqueued'])[1 + m.id %% 2]
                    ELSE 'pending' END,
       'root.logistics.' || b.code, 'logistics.message:' || m.id || ':' || m.attempts || ':',
       1, m.company_id, 10, 0, 0,
       jsonb_build_object('_type', 'odoo_recordset', 'model', 'logistics.message',
                          'ids', jsonb_build_array(m.id), 'uid', 1, 'su', true),
       '[]'::jsonb, '{}'::jsonb,
       m.create_date, m.queued_at,
       CASE WHEN m.state = 'in_progress' THEN now() AT TIME ZONE 'UTC' - interval '1 minute' END,
       m.next_attempt_at
  FROM logistics_message m
  JOIN logistics_backend b ON b.id = m.backend_id
 WHERE m.id > %(id_offset)s + %(lo)s AND m.id <= %(id_offset)s + %(hi)s
   AND m.state IN ('pending', 'queued', 'in_progress', 'retry')
   AND abs(hashtext('s' || (m.id - %(id_offset)s - 1))::bigint) %% 10000 BETWEEN 9650 AND 9879
"""

# Exception j concerns message i = 10 j (a release) and its delivery order d = 2 j + doc_first.
LOAD_EXCEPTIONS = """
WITH src AS (
    SELECT j, j * 10 AS i, 2 * j + %(doc_first)s AS d,
           abs(hashtext('e' || j)::bigint) %% 1000 AS h,
           abs(hashtext('t' || j)::bigint) %% 10 AS t,
           (%(backends)s::int[])[1 + abs(hashtext('b' || (2 * j + 1))::bigint) %% 100]
               AS backend_id,
           %(now)s::timestamp - make_interval(secs => (%(total)s - j) * 31536000.0 / %(total)s)
               AS created
      FROM generate_series(%(lo)s, %(hi)s - 1) AS j
), typed AS (
    SELECT src.*,
           (%(types)s::text[])[t + 1] AS exception_type,
           (%(severities)s::text[])[t + 1] AS severity,
           CASE WHEN h < 900 THEN 'resolved' WHEN h < 940 THEN 'ignored'
                WHEN h < 980 THEN 'new' ELSE 'in_progress' END AS state
      FROM src
)
INSERT INTO logistics_exception (
    name, exception_type, severity, severity_rank, state, state_rank, description, backend_id,
    company_id, message_id, correlation_id, res_model, res_id, team_id, user_id, sla_deadline,
    occurrence_count, last_occurrence_at, dedup_key, resolution_reason, resolved_by,
    resolved_at, create_uid, write_uid, create_date, write_date
)
SELECT initcap(replace(exception_type, '_', ' ')) || ': WH/OUT/' || lpad(d::text, 7, '0'),
       exception_type, severity,
       CASE severity WHEN 'low' THEN 0 WHEN 'medium' THEN 1 WHEN 'high' THEN 2 ELSE 3 END,
       state,
       CASE state WHEN 'new' THEN 0 WHEN 'in_progress' THEN 1 WHEN 'resolved' THEN 2 ELSE 3 END,
       'The partner answered 422 for WH/OUT/' || lpad(d::text, 7, '0')
           || ': the ship-to address has no postal code. Fix the customer address, then retry.',
       backend_id, %(company)s, %(id_offset)s + i + 1, md5('story' || d), 'stock.picking', d,
       %(team)s, CASE WHEN h %% 2 = 0 THEN 2 END, created + interval '24 hours',
       1 + h %% 3, created, exception_type || ':' || backend_id || ':stock.picking,' || d,
       CASE WHEN state IN ('resolved', 'ignored') THEN 'Address fixed and message retried' END,
       CASE WHEN state IN ('resolved', 'ignored') THEN 2 END,
       CASE WHEN state IN ('resolved', 'ignored') THEN created + interval '3 hours' END,
       1, 1, created, created
  FROM typed
"""


NEEDS_PERSON = """
UPDATE logistics_message m
   SET needs_person = NOT EXISTS (SELECT 1 FROM logistics_exception e WHERE e.message_id = m.id)
                   OR EXISTS (SELECT 1 FROM logistics_exception e WHERE e.message_id = m.id
                                 AND e.state IN ('new', 'in_progress'))
 WHERE m.state IN ('failed', 'dead')
"""


def sql_params(ctx, lo, hi, total):
    return {
        "lo": lo,
        "hi": hi,
        "total": total,
        "now": ctx["now"],
        "backends": ctx["backend_by_percent"],
        "company": ctx["company"],
        "id_offset": ctx["id_offset"],
        "doc_first": ctx["picking"],
        "team": ctx["team"],
        "types": [t for t, _s in EXCEPTION_TYPES],
        "severities": [s for _t, s in EXCEPTION_TYPES],
    }


# --------------------------------------------------------------------------------------------
# Database
# --------------------------------------------------------------------------------------------
def admin_execute(statement):
    with closing(db_connect("postgres").cursor()) as cr:
        cr._cnx.autocommit = True
        cr.execute(statement)


def create_scale_db(template, dbname):
    drop_scale_db(dbname)
    admin_execute(f'CREATE DATABASE "{dbname}" TEMPLATE "{template}"')


def drop_scale_db(dbname):
    Registry.delete(dbname)
    close_db(dbname)
    admin_execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    shutil.rmtree(odoo.tools.config.filestore(dbname), ignore_errors=True)


def prepare(registry):
    """Partners, a delivery order whose messages the smart buttons count, and the ids."""
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        company = env.company
        backends = env["logistics.backend"].create(
            [
                {
                    "name": f"Scale partner {index + 1}",
                    "code": f"scale_{index + 1}",
                    "adapter": "generic_rest",
                    "endpoint_ids": [
                        (
                            0,
                            0,
                            {
                                "environment": "test",
                                "base_url": "http://127.0.0.1:9/",
                                "auth_kind": "none",
                            },
                        )
                    ],
                }
                for index in range(len(PARTNER_SHARES))
            ]
        )
        backend_by_percent = [
            backend.id
            for backend, share in zip(backends, PARTNER_SHARES, strict=True)
            for _ in range(share)
        ]
        warehouse = env["stock.warehouse"].search([("company_id", "=", company.id)], limit=1)
        picking = env["stock.picking"].create(
            {
                "picking_type_id": warehouse.out_type_id.id,
                "location_id": warehouse.lot_stock_id.id,
                "location_dest_id": env.ref("stock.stock_location_customers").id,
            }
        )
        # The loaded documents count from this delivery order's id: it has its messages and
        # exceptions at every size, whatever other scenarios left in the database.
        cr.execute(
            "UPDATE stock_picking SET logistics_correlation_id = md5('story' || id) WHERE id = %s",
            (picking.id,),
        )
        cr.execute("SELECT COALESCE(max(id), 0) FROM logistics_message")
        id_offset = cr.fetchone()[0]
        team = env["logistics.team"].search([], limit=1)
        cr.execute("SELECT now() AT TIME ZONE 'UTC'")
        now = cr.fetchone()[0]
        return {
            "company": company.id,
            "backend_ids": backends.ids,
            "backend_by_percent": backend_by_percent,
            "picking": picking.id,
            "id_offset": id_offset,
            "team": team.id or None,
            "now": now,
        }


def load(registry, ctx, messages, exceptions):
    """Grow the tables to ``messages`` / ``exceptions`` rows (from what is already loaded)."""
    start = time.perf_counter()
    with registry.cursor() as cr:
        lo = ctx.get("messages", 0)
        step = 250_000
        for chunk in range(lo, messages, step):
            params = sql_params(ctx, chunk, min(chunk + step, messages), N_MESSAGES)
            cr.execute(LOAD_MESSAGES, params)
            cr.execute(LOAD_JOBS, params)
            cr.commit()
        cr.execute(
            "SELECT setval('logistics_message_id_seq', (SELECT max(id) FROM logistics_message))"
        )
        lo = ctx.get("exceptions", 0)
        cr.execute(LOAD_EXCEPTIONS, sql_params(ctx, lo, exceptions, N_EXCEPTIONS))
        # The stored flag the ORM keeps for messages changed through it.
        cr.execute(NEEDS_PERSON)
        cr.commit()
    # VACUUM cannot run in a transaction: a connection of its own, in autocommit.
    with closing(db_connect(registry.db_name).cursor()) as cr:
        cr._cnx.autocommit = True
        for table in ("logistics_message", "logistics_exception", "queue_job"):
            vacuum_until_visible(cr, table)
    ctx["messages"], ctx["exceptions"] = messages, exceptions
    return time.perf_counter() - start


def vacuum_until_visible(cr, table, tries=5):
    """VACUUM ANALYZE, again until the table's pages are all-visible as autovacuum leaves them
    on a live database: a VACUUM that ran while another transaction was open (autovacuum's own
    ANALYZE of the table loaded just before) marks none of the new rows visible, and index-only
    scans then read the table. Says so if it never gets there."""
    for _try in range(tries):
        cr.execute(f"VACUUM ANALYZE {table}")
        cr.execute(
            "SELECT relallvisible::float / GREATEST(relpages, 1) FROM pg_class WHERE relname = %s",
            (table,),
        )
        visible = cr.fetchone()[0]
        if visible >= 0.95:
            return
        time.sleep(1)
    print(f"  note: {table} is {visible:.0%} all-visible after {tries} VACUUMs")


# --------------------------------------------------------------------------------------------
# The operations
# --------------------------------------------------------------------------------------------
def view_spec(env, model, view_type, view_id=False):
    """The web client's specification for a view: every field of the arch (as the user's
    groups leave it), many2one fields with their display name."""
    views = env[model].get_views([(view_id, view_type)])
    arch = etree.fromstring(views["views"][view_type]["arch"])
    model_fields = env[model]._fields
    spec = {}
    nodes = arch.iterchildren("field") if view_type == "list" else arch.iter("field")
    for node in nodes:
        name = node.get("name")
        field = model_fields[name]
        spec[name] = {"fields": {"display_name": {}}} if field.type == "many2one" else {}
    return spec


def web_context(env):
    return {
        "lang": "en_US",
        "tz": "UTC",
        "uid": env.uid,
        "allowed_company_ids": [env.company.id],
        "bin_size": True,
    }


def screens(env, ctx):
    """name -> callable(env) doing what the web client asks the server for that screen."""
    kanban_id = env.ref("logistics_connector_base.logistics_backend_view_kanban").id
    kanban_spec = view_spec(env, "logistics.backend", "kanban", kanban_id)
    list_spec = view_spec(env, "logistics.message", "list")
    # The probe document counts from the first loaded one (the sample delivery order).
    reference = f"WH/OUT/{ctx['picking'] + PROBE_DOCUMENT - 1:07d}"

    def overview(env):
        return env["logistics.backend"].web_search_read([], kanban_spec, limit=40)

    def reference_ilike(env):
        return env["logistics.message"].web_search_read(
            [("reference", "ilike", reference)], list_spec, limit=80, count_limit=10001
        )

    def reference_equal(env):
        return env["logistics.message"].web_search_read(
            [("reference", "=", reference)], list_spec, limit=80, count_limit=10001
        )

    def smart_buttons(env):
        picking = env["stock.picking"].browse(ctx["picking"])
        picking._compute_logistics_counts()
        return picking.logistics_message_count, picking.logistics_exception_count

    def message_list(env):
        return env["logistics.message"].web_search_read([], list_spec, limit=80, count_limit=10001)

    return {
        "Overview (partner kanban + counters)": overview,
        "message search: reference ilike (search box)": reference_ilike,
        "message search: reference = value": reference_equal,
        "delivery order smart buttons": smart_buttons,
        "message list, default (80 + count)": message_list,
    }


CRONS = {
    "cron: overdue acknowledgements": "_cron_ack_overdue",
    "cron: recover stuck messages": "_cron_recover_stuck",
}


class QueryLog:
    """The queries of one run and their durations (Odoo's per-thread query hooks)."""

    def __init__(self):
        self.queries = []

    def hook(self, cr, query, params, start, delay):
        self.queries.append((delay, query, params))

    def __enter__(self):
        thread = threading.current_thread()
        thread.query_hooks = (*getattr(thread, "query_hooks", ()), self.hook)
        return self

    def __exit__(self, *exc):
        thread = threading.current_thread()
        thread.query_hooks = tuple(h for h in thread.query_hooks if h != self.hook)


def run_screen(registry, func, log=None):
    with registry.cursor() as cr:
        env = api.Environment(cr, ctx_uid(cr), {})
        env = env(context=web_context(env))
        start = time.perf_counter()
        if log:
            with log:
                func(env)
        else:
            func(env)
        seconds = time.perf_counter() - start
        cr.rollback()
    return seconds


def ctx_uid(cr):
    env = api.Environment(cr, SUPERUSER_ID, {})
    return env.ref("base.user_admin").id


def run_cron(registry, method, log=None):
    """One cron call as the cron worker makes it (superuser), rolled back after."""
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"lastcall": False})
        model = env["logistics.message"]
        start = time.perf_counter()
        if log:
            with log:
                done = getattr(model, method)()
        else:
            done = getattr(model, method)()
        env.flush_all()
        seconds = time.perf_counter() - start
        cr.rollback()
    return seconds, len(done)


def measure(registry, ctx):
    results = {}
    for name, func in screens_for(registry, ctx).items():
        run_screen(registry, func)  # warm-up: caches, prepared plans
        results[name] = statistics.median(run_screen(registry, func) for _ in range(REPEAT))
    for name, method in CRONS.items():
        runs = [run_cron(registry, method) for _ in range(CRON_REPEAT)]
        seconds = statistics.median(r[0] for r in runs)
        results[name] = (seconds, runs[0][1])
    return results


def screens_for(registry, ctx):
    with registry.cursor() as cr:
        env = api.Environment(cr, ctx_uid(cr), {})
        return screens(env(context=web_context(env)), ctx)


# --------------------------------------------------------------------------------------------
# Where the time goes
# --------------------------------------------------------------------------------------------
KEY_PLAN_WORDS = ("Scan", "Join", "Aggregate", "Sort", "Loop", "Rows Removed", "Filter", "Time")


def explain_slowest(registry, name, runner):
    log = QueryLog()
    seconds = runner(log)
    seconds = seconds[0] if isinstance(seconds, tuple) else seconds
    slowest = sorted(log.queries, key=lambda q: q[0], reverse=True)[:2]
    total = sum(q[0] for q in log.queries)
    print(
        f"\n  {name}: {len(log.queries)} queries, {total * 1000:.0f} ms in SQL "
        f"of {seconds * 1000:.0f} ms; slowest:"
    )
    # Where many small queries add up: the statements that cost most in all, by their text.
    shapes = {}
    for delay, query, _params in log.queries:
        shape = " ".join(str(query).split())[:110]
        count, spent = shapes.get(shape, (0, 0.0))
        shapes[shape] = (count + 1, spent + delay)
    if len(shapes) > 5:
        for shape, (count, spent) in sorted(shapes.items(), key=lambda s: -s[1][1])[:4]:
            print(f"    {count:>6} x {spent * 1000:>7.0f} ms  {shape}")
    with registry.cursor() as cr:
        for delay, query, params in slowest:
            text = cr._obj.mogrify(query, params).decode()
            print(f"    [{delay * 1000:.1f} ms] {' '.join(text.split())[:300]}")
            if not text.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            cr.execute(f"EXPLAIN (ANALYZE, BUFFERS) {text}")
            lines = [row[0] for row in cr.fetchall()]
            for line in lines:
                if any(word in line for word in KEY_PLAN_WORDS):
                    print(f"      {line.rstrip()[:150]}")
        cr.rollback()


# --------------------------------------------------------------------------------------------
def main():
    odoo.tools.config.parse_config(
        [
            "-c",
            os.environ["LC_ODOO_CONF"],
            f"--addons-path={os.environ['LC_BENCH_ADDONS_PATH']}",
            "--log-level=warn",
        ]
    )
    bench_db = os.environ["LC_BENCH_DB"]
    dbname = f"{bench_db}_scale"
    started = time.perf_counter()
    create_scale_db(bench_db, dbname)
    try:
        registry = Registry(dbname)
        ctx = prepare(registry)
        small_load = load(registry, ctx, SMALL_MESSAGES, SMALL_EXCEPTIONS)
        small = measure(registry, ctx)
        big_load = load(registry, ctx, N_MESSAGES, N_EXCEPTIONS)
        big = measure(registry, ctx)
        report(small, big, small_load, big_load)
        explain_where_time_goes(registry, ctx, small, big)
    finally:
        if KEEP_DB:
            print(f"\n  {dbname} kept (LC_BENCH_SCALE_KEEP): drop it with dropdb when done")
        else:
            drop_scale_db(dbname)
    print(f"\n  scale scenario: {time.perf_counter() - started:.0f} s in all")


def label(count):
    return f"{count / 1_000_000:g}M" if count >= 1_000_000 else f"{count / 1000:g}k"


def report(small, big, small_load, big_load):
    small_size = f"{label(SMALL_MESSAGES)}/{label(SMALL_EXCEPTIONS)}"
    big_size = f"{label(N_MESSAGES)}/{label(N_EXCEPTIONS)}"
    print(
        f"\nScale: messages/exceptions {small_size} (loaded in {small_load:.0f} s) versus "
        f"{big_size} (loaded in {big_load:.0f} s); screens: median of {REPEAT} runs as admin"
    )
    print(f"  {'operation':<46} {small_size:>12} {big_size:>12} {'ratio':>8}  target")
    for name in small:
        if name in CRONS:
            continue
        ratio = big[name] / small[name]
        verdict = "ok" if ratio <= SCREEN_TARGET else "OVER"
        print(
            f"  {name:<46} {small[name] * 1000:>9.1f} ms {big[name] * 1000:>9.1f} ms "
            f"{ratio:>7.1f}x  <= {SCREEN_TARGET:g}x {verdict}"
        )
    print(f"\n  {'cron (one call = one batch)':<46} {small_size:>18} {big_size:>18} {'ratio':>8}")
    for name in CRONS:
        (s_sec, s_items), (b_sec, b_items) = small[name], big[name]
        print(
            f"  {name + ', per call':<46} {s_sec * 1000:>9.1f} ms {s_items:>4} it "
            f"{b_sec * 1000:>9.1f} ms {b_items:>4} it {b_sec / s_sec:>7.1f}x"
        )
        if s_items and b_items:
            s_item, b_item = s_sec / s_items, b_sec / b_items
            print(
                f"  {name + ', per item':<46} {s_item * 1000:>15.2f} ms "
                f"{b_item * 1000:>15.2f} ms {b_item / s_item:>7.1f}x"
            )


def explain_where_time_goes(registry, ctx, small, big):
    over = []
    screen_funcs = screens_for(registry, ctx)
    for name, func in screen_funcs.items():
        if big[name] / small[name] > SCREEN_TARGET:
            over.append((name, lambda log, func=func: run_screen(registry, func, log)))
    # The crons always: their cost per call is what a bounded batch must keep small.
    for name, method in CRONS.items():
        over.append((name, lambda log, method=method: run_cron(registry, method, log)))
    print(f"\nWhere the time goes at {label(N_MESSAGES)} (EXPLAIN ANALYZE, key lines)")
    for name, runner in over:
        explain_slowest(registry, name, runner)


if __name__ == "__main__":
    main()
