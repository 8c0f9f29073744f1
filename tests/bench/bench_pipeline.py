"""Benchmark: the outbound message pipeline and the webhook intake, each against a baseline
measured in the same run on the same machine.

- outbound: N order releases written as messages (outbox), then their queue_job jobs performed
  one by one against the loopback partner sandbox, versus N bare POSTs of the same documents
  to the same sandbox with one requests session (the network floor), N no-op queue_job jobs
  (the job machinery floor) and N queue_job jobs that each make one bare POST of the document
  to the same sandbox (the send floor: both floors in one job). Every job is performed with
  queue_job's own worker code (started and committed, then performed and committed), as the
  runner's call to /queue_job/runjob does, in alternating rounds (LC_BENCH_ROUNDS, 10).
  Target: the pipeline >= 0.5x the send floor (the median of the rounds' ratios).
- webhook intake: N signed deliveries to /logistics/webhook/<token> on a real Odoo HTTP server,
  4 at a time, versus the same N bodies POSTed to /lc_bench/insert on the same server, a plain
  Odoo route that inserts one row and commits (tests/bench/addons/lc_bench_baseline), and
  versus Odoo's bare /web/health route. Target: intake >= 0.8x the insert route.

Run by `scripts/bench`; nothing here asserts: it prints figures.
"""

import json
import logging
import os
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from tests.sandboxes import GenericPartnerSandbox

REPO_ROOT = Path(__file__).resolve().parents[2]
N_MESSAGES = int(os.environ.get("LC_BENCH_MESSAGES", "300"))
N_WEBHOOKS = int(os.environ.get("LC_BENCH_WEBHOOKS", "400"))
HTTP_PORT = int(os.environ.get("LC_BENCH_HTTP_PORT", "8469"))
TOKEN = "bench-token-5f1c"
SECRET = "whsec_YmVuY2gtc2VjcmV0LWZvci10aGUtbG9naXN0aWNzLXN1aXRl"
ROUNDS = int(os.environ.get("LC_BENCH_ROUNDS", "10"))
BARE_POST = "baseline: bare POST to the sandbox"
NOOP_JOB = "baseline: no-op queue_job job"
SEND_FLOOR = "send floor: queue_job job doing a bare POST"
PIPELINE = "pipeline: job -> adapter -> sandbox -> done"
INSERT_ROUTE = "baseline: POST /lc_bench/insert (1 row + commit)"


def rate(count, seconds):
    return count / seconds if seconds else float("inf")


def report(title, rows, baseline_key):
    base = rows[baseline_key]
    print(f"\n{title}")
    print(f"  {'scenario':<50} {'per second':>12} {'ms each':>9} {'vs baseline':>12}")
    for name, per_second in rows.items():
        ratio = per_second / base if base else float("nan")
        print(f"  {name:<50} {per_second:>12.1f} {1000 / per_second:>9.2f} {ratio:>11.2f}x")


def document(index):
    return {
        "schema": "order_release/1",
        "reference": f"BENCH-{uuid.uuid4().hex[:8]}-{index}",
        "warehouse_code": "BENCH-WH",
        "ship_to": {"name": "Bench", "street": "1 Loop", "city": "Local", "country": "US"},
        "lines": [{"line_ref": "1", "sku": "SKU-1", "quantity": 1, "uom": "EA"}],
    }


def perform_pending_jobs(env, channel, limit=None):
    """Perform the channel's pending jobs (at most ``limit``) one by one as queue_job does (see
    run_as_the_runner), its runner marking them enqueued 200 at a time. Returns how many were
    performed."""
    done = 0
    while limit is None or done < limit:
        env.cr.execute(
            "UPDATE queue_job SET state = 'enqueued', date_enqueued = now() at time zone 'UTC' "
            "WHERE id IN (SELECT id FROM queue_job WHERE state = 'pending' AND channel = %s "
            "ORDER BY id LIMIT %s) RETURNING id, uuid",
            (channel, min(200, limit - done) if limit else 200),
        )
        uuids = [job_uuid for _id, job_uuid in sorted(env.cr.fetchall())]
        env.cr.commit()
        if not uuids:
            break
        for job_uuid in uuids:
            done += bool(run_as_the_runner(env, job_uuid))
    return done


def run_as_the_runner(env, job_uuid):
    """Perform one enqueued job with queue_job's own code, as its worker does when the runner
    calls /queue_job/runjob: mark it started and commit that, lock it (_acquire_job), then
    perform it and commit its outcome (_runjob). Only the HTTP hop is left out. Returns the
    job, or None when it was not enqueued (taken by someone else)."""
    from odoo.addons.queue_job.controllers.main import RunJobController

    job = RunJobController._acquire_job(env, job_uuid)
    if job:
        RunJobController._runjob(env, job)
    return job


def forget_bench_partner(cr, backend, channels):
    """Remove what a bench partner left (the channels' jobs, its messages) and deactivate it.
    Its last audit entries may still wait for their paced seal (SEAL_PERIOD), which updates
    them as the messages' deletion does (their link): it goes first."""
    from odoo.addons.logistics_connector_base.models.logistics_audit_log import SEAL_PERIOD

    time.sleep(2 * SEAL_PERIOD)
    cr.commit()  # a snapshot that sees that seal
    cr.execute("DELETE FROM queue_job WHERE channel IN %s", (tuple(channels),))
    cr.execute("DELETE FROM logistics_message WHERE backend_id = %s", (backend.id,))
    backend.active = False


def make_backend(env, sandbox, code):
    return env["logistics.backend"].create(
        {
            "name": f"Bench partner {code}",
            "code": code,
            "adapter": "generic_rest",
            "webhook_secret": SECRET,
            "endpoint_ids": [
                (0, 0, {"environment": "test", "base_url": sandbox.base_url, "auth_kind": "none"})
            ],
        }
    )


def bench_outbound(registry, sandbox):
    """The floors and the pipeline are performed in alternating rounds, so that a change in the
    machine's load during the run weighs on each of them alike; the headline ratio is the
    median of the rounds' own ratios, so that a burst of load within one round (on a shared
    machine) does not decide it."""
    session = requests.Session()
    orders_url = f"{sandbox.base_url}/api/v1/orders"
    seconds = dict.fromkeys((BARE_POST, NOOP_JOB, SEND_FLOOR, PIPELINE), 0.0)
    performed = dict.fromkeys(seconds, 0)
    round_ratios = []
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        # queue_job floor: the same number of jobs that do nothing but exist.
        partner = env["res.partner"].browse(env.ref("base.partner_admin").id)
        for _ in range(N_MESSAGES):
            partner.with_delay(channel="root.bench_noop").exists()
        # Send floor: a queue_job job whose whole work is one bare POST of the document to
        # the same sandbox (lc_bench_baseline), performed like the pipeline's jobs.
        for doc in [document(i) for i in range(N_MESSAGES)]:
            env["lc.bench.row"].with_delay(channel="root.bench_floor")._bench_post(orders_url, doc)
        backend = make_backend(env, sandbox, f"bench_{uuid.uuid4().hex[:6]}")
        cr.commit()
        messages = env["logistics.message"]
        start = time.perf_counter()
        for doc in [document(i) for i in range(N_MESSAGES)]:
            messages |= messages._create_outbound(backend, "order_release", document=doc)
            # one business transaction per message, as when pickings are released one by one
            cr.commit()
        outbox_seconds = time.perf_counter() - start
        channels = {
            NOOP_JOB: "root.bench_noop",
            SEND_FLOOR: "root.bench_floor",
            PIPELINE: backend.channel_name,
        }
        per_round = -(-N_MESSAGES // ROUNDS)
        for _round in range(ROUNDS):
            start = time.perf_counter()
            for doc in [document(i) for i in range(per_round)]:
                session.post(orders_url, json=doc, timeout=10).raise_for_status()
            seconds[BARE_POST] += time.perf_counter() - start
            performed[BARE_POST] += per_round
            this_round = {}
            for name, channel in channels.items():
                start = time.perf_counter()
                count = perform_pending_jobs(env, channel, limit=per_round)
                this_round[name] = time.perf_counter() - start
                performed[name] += count
                seconds[name] += this_round[name]
            # The same number of jobs each: the throughput ratio is the inverse time ratio.
            round_ratios.append(this_round[SEND_FLOOR] / this_round[PIPELINE])
        messages.invalidate_recordset()
        done = len(messages.filtered(lambda m: m.state == "done"))
        latencies = [m.latency for m in messages if m.latency]
        forget_bench_partner(
            cr, backend, ("root.bench_noop", "root.bench_floor", backend.channel_name)
        )
    rows = {name: rate(performed[name], seconds[name]) for name in (BARE_POST, NOOP_JOB)}
    rows[SEND_FLOOR] = rate(performed[SEND_FLOOR], seconds[SEND_FLOOR])
    # Cross-check: the two floors' per-item times added up.
    rows["send floor as a sum (bare POST + no-op job)"] = 1 / (
        1 / rows[BARE_POST] + 1 / rows[NOOP_JOB]
    )
    rows["outbox: create message + job (1 commit each)"] = rate(N_MESSAGES, outbox_seconds)
    rows[PIPELINE] = rate(performed[PIPELINE], seconds[PIPELINE])
    rows["pipeline end to end (outbox + send)"] = rate(
        N_MESSAGES, outbox_seconds + seconds[PIPELINE]
    )
    report(
        f"Outbound, {N_MESSAGES} order releases, in {ROUNDS} alternating rounds", rows, BARE_POST
    )
    print(f"  messages done: {done}/{N_MESSAGES}")
    pipeline = rows[PIPELINE]
    print(
        f"  pipeline / send floor (job + bare POST), median of the {ROUNDS} rounds: "
        f"{statistics.median(round_ratios):.2f}x (target >= 0.5x; rounds "
        f"{min(round_ratios):.2f}-{max(round_ratios):.2f}x; all rounds together "
        f"{pipeline / rows[SEND_FLOOR]:.2f}x; / the floors' sum "
        f"{pipeline / rows['send floor as a sum (bare POST + no-op job)']:.2f}x)"
    )
    if latencies:
        median = statistics.median(latencies)
        print(f"  median creation->done latency (jobs run in rounds after it): {median:.2f} s")


def start_odoo(dbname):
    env = dict(os.environ, ODOO_QUEUE_JOB_PORT=str(HTTP_PORT))
    process = subprocess.Popen(
        [
            sys.executable,
            str(REPO_ROOT / ".venv" / "bin" / "odoo"),
            "-c",
            os.environ["LC_ODOO_CONF"],
            f"--addons-path={os.environ['LC_BENCH_ADDONS_PATH']}",
            "-d",
            dbname,
            f"--db-filter=^{dbname}$",
            f"--http-port={HTTP_PORT}",
            f"--gevent-port={HTTP_PORT + 3}",
            "--workers=2",
            "--max-cron-threads=0",
            "--log-level=warn",
            "--load=base,web",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(120):
        try:
            requests.get(f"http://127.0.0.1:{HTTP_PORT}/web/health", timeout=2)
            return process
        except requests.RequestException:
            time.sleep(0.5)
    process.kill()
    raise SystemExit("Odoo did not start for the webhook benchmark")


def fire(urls_and_payloads, workers=4):
    session = requests.Session()

    def one(item):
        url, body, headers = item
        return session.post(url, data=body, headers=headers, timeout=30).status_code

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        statuses = list(pool.map(one, urls_and_payloads))
    return time.perf_counter() - start, statuses


def signed_deliveries(base, path, count):
    from odoo.addons.logistics_connector_base.lib import webhook_signature

    deliveries = []
    for index in range(count):
        body = json.dumps(
            {
                "type": "tracking.updated",
                "data": {
                    "schema": "tracking_event/1",
                    "tracking_number": f"BENCH{index}",
                    "status": "in_transit",
                    "occurred_at": "2026-11-20T10:00:00Z",
                },
            }
        ).encode()
        msg_id = f"bench-{uuid.uuid4().hex}"
        headers = webhook_signature.build_headers(SECRET, msg_id, body)
        headers["Content-Type"] = "application/json"
        deliveries.append((f"{base}{path}", body, headers))
    return deliveries


def bench_webhooks(registry, dbname):
    code = f"bench_wh_{uuid.uuid4().hex[:6]}"
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        with GenericPartnerSandbox() as sandbox:
            backend = make_backend(env, sandbox, code)
        backend.sudo().webhook_token = f"{TOKEN}-{code}"
        backend_id = backend.id
    process = start_odoo(dbname)
    try:
        base = f"http://127.0.0.1:{HTTP_PORT}"
        webhook_path = f"/logistics/webhook/{TOKEN}-{code}"
        # Warm-up: every worker loads its registry and routes before anything is timed.
        fire(signed_deliveries(base, webhook_path, 20))
        fire(signed_deliveries(base, "/lc_bench/insert", 20))
        session = requests.Session()
        for _ in range(20):
            session.get(f"{base}/web/health", timeout=30)
        health = [(f"{base}/web/health", b"", {})] * N_WEBHOOKS
        start = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda _: session.get(f"{base}/web/health", timeout=30), health))
        health_seconds = time.perf_counter() - start
        # The same bodies and signed headers to both routes, in alternating halves, so that
        # a change of load on the machine weighs on both alike.
        deliveries = signed_deliveries(base, webhook_path, N_WEBHOOKS)
        inserts = [(f"{base}/lc_bench/insert", body, h) for _url, body, h in deliveries]
        half = N_WEBHOOKS // 2
        insert_seconds = intake_seconds = 0.0
        insert_statuses, statuses = [], []
        for part in (slice(0, half), slice(half, N_WEBHOOKS)):
            seconds, answers = fire(inserts[part])
            insert_seconds += seconds
            insert_statuses += answers
            seconds, answers = fire(deliveries[part])
            intake_seconds += seconds
            statuses += answers
        duplicate_seconds, duplicate_statuses = fire(deliveries)
    finally:
        process.terminate()
        process.wait(timeout=30)
        with registry.cursor() as cr:
            cr.execute("DELETE FROM queue_job WHERE channel = %s", (f"root.logistics.{code}",))
            cr.execute("DELETE FROM logistics_message WHERE backend_id = %s", (backend_id,))
            cr.execute("UPDATE logistics_backend SET active = false WHERE id = %s", (backend_id,))
            cr.execute("DELETE FROM lc_bench_row")
    rows = {
        INSERT_ROUTE: rate(N_WEBHOOKS, insert_seconds),
        "webhook intake: verify + store raw + enqueue": rate(N_WEBHOOKS, intake_seconds),
        "webhook redelivery: verify + dedup (200)": rate(N_WEBHOOKS, duplicate_seconds),
        "extra: GET /web/health (bare route, no write)": rate(N_WEBHOOKS, health_seconds),
    }
    report(
        f"Webhook intake, {N_WEBHOOKS} signed deliveries, 4 concurrent clients, 2 workers",
        rows,
        INSERT_ROUTE,
    )
    print(
        f"  answers: insert route {sorted(set(insert_statuses))}, first delivery "
        f"{sorted(set(statuses))}, redelivery {sorted(set(duplicate_statuses))}"
    )
    intake = rows["webhook intake: verify + store raw + enqueue"]
    print(f"  intake / insert route: {intake / rows[INSERT_ROUTE]:.2f}x (target >= 0.8x)")


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
    dbname = os.environ["LC_BENCH_DB"]
    registry = Registry(dbname)
    with GenericPartnerSandbox() as sandbox:
        bench_outbound(registry, sandbox)
    bench_webhooks(registry, dbname)


if __name__ == "__main__":
    main()
