"""Benchmark: light inbound events (acknowledgements) applied one job per event versus in
batches of the partner's batch size, on the same machine in the same run.

N outbound messages are acknowledged by N inbound acknowledgement messages (stored raw, as a
webhook would); their jobs are performed the way queue_job's runner would, one transaction
(and commit) per job. The figure is acknowledgements applied per second.

Run by `scripts/bench`; nothing here asserts: it prints figures.
"""

import json
import logging
import os
import time
import uuid

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from tests.bench.bench_pipeline import (
    forget_bench_partner,
    make_backend,
    perform_pending_jobs,
    rate,
    report,
)
from tests.sandboxes import GenericPartnerSandbox

N_EVENTS = int(os.environ.get("LC_BENCH_EVENTS", "300"))
BATCH_SIZE = 50


def acknowledgement(reference):
    body = {
        "type": "order.acknowledged",
        "data": {
            "schema": "ack/1",
            "acknowledged_reference": reference,
            "status": "accepted",
        },
    }
    return json.dumps(body).encode()


def applied_per_second(registry, sandbox, batch_size):
    """Acknowledgements applied per second with this batch size (1 = one job per event)."""
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        backend = make_backend(env, sandbox, f"bench_ack_{uuid.uuid4().hex[:6]}")
        backend.inbound_batch_size = batch_size
        messages = env["logistics.message"]
        references = []
        for index in range(N_EVENTS):
            reference = f"ACK-{uuid.uuid4().hex[:8]}-{index}"
            messages._create_outbound(
                backend,
                "order_release",
                document={
                    "schema": "order_release/1",
                    "reference": reference,
                    "warehouse_code": "BENCH-WH",
                    "ship_to": {"name": "B", "street": "1 Loop", "city": "L", "country": "US"},
                    "lines": [{"line_ref": "1", "sku": "SKU-1", "quantity": 1, "uom": "EA"}],
                },
                enqueue=False,
            )
            references.append(reference)
        for index, reference in enumerate(references):
            messages._create_inbound(
                backend, "ack", acknowledgement(reference), event_id=f"ack-{index}"
            )
        cr.commit()
        start = time.perf_counter()
        perform_pending_jobs(env, backend.channel_name)
        seconds = time.perf_counter() - start
        applied = messages.search_count(
            [("backend_id", "=", backend.id), ("flow", "=", "ack"), ("state", "=", "done")]
        )
        forget_bench_partner(cr, backend, [backend.channel_name])
        cr.commit()
    return rate(applied, seconds), applied


def main():
    odoo.tools.config.parse_config(["-c", os.environ["LC_ODOO_CONF"], "--log-level=warn"])
    logging.getLogger("tests.sandboxes").setLevel(logging.WARNING)
    registry = Registry(os.environ["LC_BENCH_DB"])
    with GenericPartnerSandbox() as sandbox:
        single, single_applied = applied_per_second(registry, sandbox, 1)
        batched, batched_applied = applied_per_second(registry, sandbox, BATCH_SIZE)
    report(
        f"Light inbound events, {N_EVENTS} acknowledgements applied",
        {
            "baseline: one job per event": single,
            f"batches of {BATCH_SIZE} events per job": batched,
        },
        "baseline: one job per event",
    )
    print(
        f"  applied: {single_applied}/{N_EVENTS} one by one, {batched_applied}/{N_EVENTS} batched"
    )


if __name__ == "__main__":
    main()
