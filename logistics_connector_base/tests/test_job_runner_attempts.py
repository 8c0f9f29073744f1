"""A job's attempt is recorded by queue_job's own worker code: in the transaction queue_job
commits when it marks the job started, before the job runs, so it is committed before the
partner is called and survives a worker that dies in the call.

Jobs run here exactly as queue_job's worker runs them for its runner (_acquire_job commits
the started job, _runjob performs it), with real commits; what they commit is removed again
at the end."""

import threading
import unittest
import uuid

from odoo import SUPERUSER_ID, api, fields
from odoo.addons.queue_job.controllers.main import RunJobController
from odoo.modules.registry import Registry
from odoo.tests import get_db_name
from tests.sandboxes import GenericPartnerSandbox

from .common import CommittedWorkMixin


class AttemptWatchingSandbox(GenericPartnerSandbox):
    """A real loopback partner that notes, when an order reaches it, how many attempts at the
    order's message another connection sees committed at that moment."""

    def __init__(self, registry):
        super().__init__()
        self.registry = registry
        self.committed_attempts = {}

    def _dispatch(self, request):
        if request.method == "POST" and isinstance(request.json, dict):
            reference = request.json.get("reference")
            with self.registry.cursor() as cr:
                cr.execute(
                    "SELECT count(*) FROM logistics_message_attempt a "
                    "JOIN logistics_message m ON m.id = a.message_id WHERE m.reference = %s",
                    (reference,),
                )
                self.committed_attempts[reference] = cr.fetchone()[0]
        return super()._dispatch(request)


class TestAttemptsRecordedByTheJobRunner(CommittedWorkMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())
        cls.sandbox = AttemptWatchingSandbox(cls.registry)
        cls.sandbox.start()
        cls.addClassCleanup(cls.sandbox.stop)

    def setUp(self):
        super().setUp()
        self.sandbox.reset()
        self.backend_id = self.create_committed_partner(
            self.registry,
            {
                "name": "Runner partner",
                "code": f"runner_{uuid.uuid4().hex[:6]}",
                "adapter": "generic_rest",
                "breaker_cooldown": 300,
                "endpoint_ids": [
                    (
                        0,
                        0,
                        {
                            "environment": "test",
                            "base_url": self.sandbox.base_url,
                            "auth_kind": "none",
                        },
                    )
                ],
            },
        )

    def release(self):
        """A committed order release and its pending job; returns (message id, reference)."""
        reference = f"RUN-{uuid.uuid4().hex[:8]}"
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            message = env["logistics.message"]._create_outbound(
                env["logistics.backend"].browse(self.backend_id),
                "order_release",
                document={
                    "schema": "order_release/1",
                    "reference": reference,
                    "warehouse_code": "WH",
                    "ship_to": {"name": "A", "street": "1 Loop", "city": "L", "country": "US"},
                    "lines": [{"line_ref": "1", "sku": "SKU-1", "quantity": 1, "uom": "EA"}],
                },
            )
            return message.id, reference

    def enqueue(self, message_id):
        """What queue_job's runner does before it hands a job to a worker."""
        with self.registry.cursor() as cr:
            cr.execute(
                "UPDATE queue_job SET state = 'enqueued' WHERE uuid = "
                "(SELECT job_uuid FROM logistics_message WHERE id = %s) RETURNING uuid",
                (message_id,),
            )
            return cr.fetchone()[0]

    def run_as_the_worker(self, message_id):
        """The worker's side of /queue_job/runjob; returns the job."""
        job_uuid = self.enqueue(message_id)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            job = RunJobController._acquire_job(env, job_uuid)
            RunJobController._runjob(env, job)
            return job

    def attempts_of(self, message_id):
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT number, job_uuid, finished_at IS NOT NULL, outcome "
                "FROM logistics_message_attempt WHERE message_id = %s ORDER BY number",
                (message_id,),
            )
            return cr.fetchall()

    def message_values(self, message_id, *names):
        with self.registry.cursor() as cr:
            message = api.Environment(cr, SUPERUSER_ID, {})["logistics.message"].browse(message_id)
            return tuple(message[name] for name in names)

    def test_the_attempt_is_committed_before_the_call_and_finished_with_the_outcome(self):
        message_id, reference = self.release()
        job = self.run_as_the_worker(message_id)
        self.assertEqual(job.state, "done")
        self.assertEqual(self.sandbox.committed_attempts[reference], 1)
        self.assertEqual(self.attempts_of(message_id), [(1, job.uuid, True, "done")])
        self.assertEqual(self.message_values(message_id, "state", "attempts"), ("done", 1))

    def test_a_worker_killed_after_the_start_counts_its_attempt_and_the_next_asks_first(self):
        message_id, reference = self.release()
        job_uuid = self.enqueue(message_id)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            self.assertTrue(RunJobController._acquire_job(env, job_uuid))
            # The worker dies here, in the call: nothing of the job's own transaction stays.
            cr.rollback()
        self.assertEqual(self.attempts_of(message_id), [(1, job_uuid, False, None)])
        # queue_job's runner gives the job of a dead worker out again.
        with self.registry.cursor() as cr:
            cr.execute("UPDATE queue_job SET state = 'pending' WHERE uuid = %s", (job_uuid,))
        job = self.run_as_the_worker(message_id)
        self.assertEqual(job.state, "done")
        self.assertEqual(
            self.attempts_of(message_id),
            [(1, job_uuid, False, None), (2, job_uuid, True, "done")],
        )
        self.assertEqual(self.message_values(message_id, "state", "attempts"), ("done", 2))
        calls = [
            (r["method"], r["path"], r["query"].get("reference")) for r in self.sandbox.requests
        ]
        self.assertEqual(
            calls,
            [("GET", "/api/v1/orders", reference), ("POST", "/api/v1/orders", None)],
            "the request of the dead worker may have landed: the partner is asked first",
        )

    def test_a_job_postponed_by_the_open_breaker_made_no_attempt(self):
        message_id, _reference = self.release()
        with self.registry.cursor() as cr:
            cr.execute(
                "UPDATE logistics_backend SET breaker_state = 'open', breaker_opened_at = %s "
                "WHERE id = %s",
                (fields.Datetime.now(), self.backend_id),
            )
        job = self.run_as_the_worker(message_id)
        self.assertIn("circuit breaker open", job.result)
        self.assertEqual(self.attempts_of(message_id), [])
        self.assertEqual(self.message_values(message_id, "attempts"), (0,))
        self.assertFalse(self.sandbox.requests)

    def test_a_job_finding_its_message_held_made_no_attempt_and_comes_back(self):
        message_id, _reference = self.release()
        locked, release = threading.Event(), threading.Event()

        def hold():
            with self.registry.cursor() as holder:
                holder.execute(
                    "SELECT id FROM logistics_message WHERE id = %s FOR NO KEY UPDATE",
                    (message_id,),
                )
                locked.set()
                release.wait(timeout=10)

        holder_thread = threading.Thread(target=hold)
        holder_thread.start()
        try:
            self.assertTrue(locked.wait(timeout=10))
            job = self.run_as_the_worker(message_id)
        finally:
            release.set()
            holder_thread.join(timeout=10)
        self.assertEqual(job.state, "pending", "queue_job runs it again a few seconds later")
        self.assertEqual(self.attempts_of(message_id), [])
        self.assertFalse(self.sandbox.requests)
        job = self.run_as_the_worker(message_id)
        self.assertEqual(job.state, "done")
        self.assertEqual(len(self.attempts_of(message_id)), 1)
