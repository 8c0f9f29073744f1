"""Races between real, separately committed transactions (as two Odoo workers would run them).

These tests cannot live in a TransactionCase: each worker needs its own connection and its own
commits. Everything they commit is removed again at the end."""

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
