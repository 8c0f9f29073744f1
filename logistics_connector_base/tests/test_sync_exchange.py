"""Synchronous exchanges (a label bought while the user waits) through real, separately
committed transactions: the caller's transaction may roll back after the partner answered.

Not a TransactionCase: there, every cursor shares the test's transaction, so a rollback would
also undo what the exchange committed on its own. Everything committed is removed at the end."""

import time
import unittest

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tests import get_db_name
from tests.sandboxes import GenericPartnerSandbox

from .common import PARTNER_TOKEN, CommittedWorkMixin

CODE = "sync_partner"


class TestSynchronousExchange(CommittedWorkMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox = GenericPartnerSandbox(auth={"kind": "bearer", "token": PARTNER_TOKEN})
        cls.sandbox.start()
        cls.addClassCleanup(cls.sandbox.stop)
        cls.registry = Registry(get_db_name())

    def setUp(self):
        super().setUp()
        self.sandbox.reset()
        self.backend_id = self.create_committed_partner(
            self.registry,
            {
                "name": "Sync partner",
                "code": CODE,
                "max_attempts": 3,
                "sync_deadline": 1.0,
                "endpoint_ids": [
                    (
                        0,
                        0,
                        {
                            "base_url": self.sandbox.base_url,
                            "auth_kind": "bearer",
                            "token": PARTNER_TOKEN,
                        },
                    )
                ],
            },
        )

    def exchange(self, reference, roll_back=False):
        """One user request that buys something from the partner, then commits or rolls back."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            outcome = env["logistics.message"]._exchange_now(
                env["logistics.backend"].browse(self.backend_id),
                "order_release",
                document=self.order(reference),
                idempotency_key=f"label:{reference}",
            )
            if roll_back:
                cr.rollback()
        return outcome

    def order(self, reference):
        return {
            "schema": "order_release/1",
            "reference": reference,
            "warehouse_code": "WH1",
            "ship_to": {"name": "Ada", "street": "1 Loop Road", "city": "Here", "country": "US"},
            "lines": [{"line_ref": "1", "sku": "WIDGET-1", "quantity": 1, "uom": "Units"}],
        }

    def posts(self):
        return [r for r in self.sandbox.requests if r["method"] == "POST"]

    def test_the_answer_comes_back_inside_the_request(self):
        outcome = self.exchange("SYNC-1")
        self.assertTrue(outcome.done, outcome)
        self.assertEqual(outcome.answer["reference"], "SYNC-1")
        self.assertEqual(outcome.external_id, outcome.answer["id"])

    def test_a_rolled_back_request_finds_the_answer_instead_of_buying_twice(self):
        first = self.exchange("SYNC-2", roll_back=True)
        self.assertTrue(first.done, first)
        again = self.exchange("SYNC-2")
        self.assertEqual(again.message_id, first.message_id)
        self.assertEqual(again.answer, first.answer)
        self.assertEqual(len(self.posts()), 1, "bought once")

    def test_a_slow_partner_hands_the_exchange_to_the_queue(self):
        self.sandbox.inject("latency", seconds=3, method="POST")
        outcome = self.exchange("SYNC-3")
        self.assertEqual(outcome.state, "retry", outcome)
        self.assertIn("did not answer within 1 seconds", outcome.error)
        # The partner finishes the request the user gave up on.
        for _wait in range(50):
            if self.sandbox.documents("orders"):
                break
            time.sleep(0.1)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            message = env["logistics.message"].browse(outcome.message_id)
            job = env["queue.job"].search([("uuid", "=", message.job_uuid)])
            self.assertEqual(job.state, "pending", "the queue finishes the exchange")
            # The job's attempt asks the partner first and finds the order.
            message.with_context(job_uuid=job.uuid)._process()
            self.assertEqual(message.state, "done")
        self.assertEqual(len(self.posts()), 1, "the slow request landed; nothing bought twice")
