"""Races between real, separately committed transactions (as two Odoo workers would run them).

These tests cannot live in a TransactionCase: each worker needs its own connection and its own
commits. Everything they commit is removed again at the end."""

import json
import threading
import unittest
from datetime import timedelta

import psycopg2

from odoo import SUPERUSER_ID, api, fields
from odoo.modules.registry import Registry
from odoo.tests import get_db_name

from .common import CommittedWorkMixin


class TestConcurrentWorkers(CommittedWorkMixin, unittest.TestCase):
    def setUp(self):
        super().setUp()
        self.registry = Registry(get_db_name())
        self.backend_id = self.create_committed_partner(
            self.registry,
            {
                "name": "Race partner",
                "code": "race_partner",
                "breaker_threshold": 2,
                "breaker_cooldown": 60,
            },
        )

    def _in_worker(self, work, results, name, barrier=None):
        try:
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                if barrier:
                    barrier.wait(timeout=10)
                results[name] = work(env)
        except Exception as error:  # the test asserts on what each worker saw
            results[name] = error

    def _race(self, work, results, names, barrier):
        """Run ``work`` in one worker thread per name, released together by the barrier."""
        threads = [
            threading.Thread(target=self._in_worker, args=(work, results, name, barrier))
            for name in names
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    def test_two_transactions_inserting_the_same_key_make_one_message(self):
        barrier = threading.Barrier(2)
        results = {}

        def create(env):
            message = env["logistics.message"]._create_outbound(
                env["logistics.backend"].browse(self.backend_id),
                "order_release",
                document={"schema": "order_release/1", "reference": "RACE-1"},
                idempotency_key="race-key-1",
                enqueue=False,
            )
            # Hold the transaction open a moment so both inserts really overlap.
            env.cr.execute("SELECT pg_sleep(0.3)")
            return message.id

        self._race(create, results, ("a", "b"), barrier)
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT id FROM logistics_message WHERE backend_id = %s AND idempotency_key = %s",
                (self.backend_id, "race-key-1"),
            )
            rows = cr.fetchall()
        self.assertEqual(len(rows), 1, results)
        outcomes = sorted(type(value).__name__ for value in results.values())
        # The loser either reads the winner's row, or is told to retry its transaction (what
        # Odoo's RPC layer and queue_job do with a serialization failure) - never a duplicate.
        for value in results.values():
            if isinstance(value, Exception):
                self.assertIsInstance(value, psycopg2.errors.SerializationFailure, outcomes)
                self.assertEqual(
                    value.pgcode, "40001", "a genuine one, that Odoo and queue_job retry"
                )
            else:
                self.assertEqual(value, rows[0][0])

    def test_breaker_state_is_shared_by_workers(self):
        results = {}

        def fail(env):
            env["logistics.backend"].browse(self.backend_id)._breaker_record_failure("timeout")

        self._in_worker(fail, results, "worker 1")
        self._in_worker(fail, results, "worker 2")
        self._in_worker(
            lambda env: env["logistics.backend"].browse(self.backend_id)._breaker_wait_seconds(),
            results,
            "worker 3",
        )
        self.assertGreater(results["worker 3"], 0, "a third worker sees the breaker open")

        with self.registry.cursor() as cr:
            cr.execute(
                "UPDATE logistics_backend SET breaker_opened_at = %s WHERE id = %s",
                (fields.Datetime.now() - timedelta(seconds=61), self.backend_id),
            )
        barrier = threading.Barrier(2)

        def probe(env):
            return env["logistics.backend"].browse(self.backend_id)._breaker_wait_seconds()

        self._race(probe, results, ("probe a", "probe b"), barrier)
        waits = sorted([results["probe a"], results["probe b"]])
        self.assertEqual(waits[0], 0, "one worker probes")
        self.assertGreater(waits[1], 0, "the other keeps waiting")

    def test_a_batch_leaves_a_message_someone_holds_to_a_job_of_its_own(self):
        references = ["HELD-1", "HELD-2", "HELD-3"]
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            backend = env["logistics.backend"].browse(self.backend_id)
            backend.inbound_batch_size = 10
            inbound = env["logistics.message"]
            for reference in references:
                body = {
                    "type": "order.acknowledged",
                    "data": {
                        "schema": "ack/1",
                        "acknowledged_reference": reference,
                        "status": "accepted",
                    },
                }
                message, _created = inbound._create_inbound(
                    backend, "ack", json.dumps(body).encode(), event_id=reference
                )
                inbound |= message
            inbound._enqueue_batches()
            self.assertEqual(len(set(inbound.mapped("job_uuid"))), 1)
            message_ids, job_uuid = inbound.ids, inbound[0].job_uuid
        # A person's action holds the second message while the batch job starts; it lets go
        # a moment later (the batch job's re-queueing of that message waits for it).
        locked, release = threading.Event(), threading.Event()

        def hold():
            with self.registry.cursor() as holder:
                holder.execute(
                    "SELECT id FROM logistics_message WHERE id = %s FOR NO KEY UPDATE",
                    (message_ids[1],),
                )
                locked.set()
                release.wait(timeout=10)

        holder_thread = threading.Thread(target=hold)
        holder_thread.start()
        self.assertTrue(locked.wait(timeout=10))
        threading.Timer(1.0, release.set).start()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"job_uuid": job_uuid})
            summary = env["logistics.message"]._process_batch(self.backend_id, "ack")
        holder_thread.join(timeout=10)
        self.assertIn("1 locked", summary)
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT id, state, job_uuid, attempts FROM logistics_message WHERE id = ANY(%s)",
                (message_ids,),
            )
            rows = {row[0]: row[1:] for row in cr.fetchall()}
            cr.execute(
                "SELECT message_id, count(*), count(finished_at) FROM logistics_message_attempt"
                " WHERE message_id = ANY(%s) GROUP BY message_id",
                (message_ids,),
            )
            attempts = {row[0]: row[1:] for row in cr.fetchall()}
        held_state, held_job, held_attempts = rows[message_ids[1]]
        self.assertEqual(held_state, "queued")
        self.assertNotEqual(held_job, job_uuid, "the held message got a job of its own")
        self.assertFalse(held_attempts)
        self.assertNotIn(message_ids[1], attempts, "no attempt was recorded for it")
        for message_id in (message_ids[0], message_ids[2]):
            state, _job, tries = rows[message_id]
            # Nothing was released under these references: applied with a plain-words failure.
            self.assertIn(state, ("done", "failed"))
            self.assertEqual(tries, 1)
            self.assertEqual(attempts[message_id], (1, 1), "recorded together, then finished")
