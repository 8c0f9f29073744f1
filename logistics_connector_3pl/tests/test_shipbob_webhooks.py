"""Registering the ShipBob webhook subscription from Odoo (Register Webhooks): ShipBob's
public topics, the partner's webhook URL and a signing secret ShipBob accepts; registering
again changes nothing; the events then come through the subscription, signed with it."""

from odoo.addons.logistics_connector_3pl.lib import shipbob
from odoo.exceptions import UserError

from .common import SECRET, ThreePLCase


class TestShipbobWebhookRegistration(ThreePLCase):
    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", self.base_url())
        self.addCleanup(setattr, self.sandbox, "webhook_url", self.sandbox.webhook_url)
        self.sandbox.webhook_url = None  # only what Odoo subscribes is delivered
        self.url = self.backend.sudo().webhook_url

    def register(self):
        answer = self.backend.action_shipbob_register_webhooks()
        self.assertEqual(answer["params"]["type"], "success", answer["params"]["message"])
        return answer["params"]["message"]

    def posts(self):
        return [
            r for r in self.sandbox.requests if (r["method"], r["path"]) == ("POST", "/webhook")
        ]

    def test_register_once_then_events_come_through_the_subscription(self):
        tested = self.backend.action_test_connection()["params"]["message"]
        self.assertIn("use Register Webhooks", tested)
        self.assertIn("is registered", self.register())
        tested = self.backend.action_test_connection()["params"]["message"]
        self.assertIn("Its webhooks are registered.", tested)
        [subscription] = self.sandbox.subscriptions.values()
        self.assertEqual(subscription["url"], self.url)
        self.assertEqual(subscription["topics"], list(shipbob.PUBLIC_TOPICS))
        backend = self.backend.sudo()
        self.assertEqual(subscription["secret"], backend.webhook_secret)
        self.assertEqual(len(backend.webhook_secret), len("whsec_") + 32, "ShipBob's form")
        self.assertEqual(backend.webhook_secret_previous, SECRET, "the old one in its grace")
        self.assertEqual(backend.shipbob_webhook_id, subscription["id"])

        self.assertIn("was already registered", self.register())
        self.assertEqual(len(self.posts()), 1, "registering again changes nothing")
        self.assertEqual(list(self.sandbox.subscriptions), [subscription["id"]])

        picking = self.released([(self.widget, 1)])
        self.deliveries_ok(self.sandbox.hold(picking.name, reason="Missing tariff code"))
        self.run_jobs()
        self.assertEqual(picking.logistics_status, "on_hold")
        self.assertEqual(self.sandbox.pick(picking.name), [], "not a topic ShipBob sends")

    def test_a_stale_subscription_is_replaced_and_others_are_left_alone(self):
        backend = self.backend.sudo()
        backend.webhook_secret = "whsec_" + "A" * 32  # already in ShipBob's form: kept
        other = self.api_subscription(["order.shipped"], "https://erp.example/hooks")
        stale = self.api_subscription(["order.shipped"], self.url)
        self.register()
        self.assertEqual(backend.webhook_secret, "whsec_" + "A" * 32)
        self.assertNotIn(stale, self.sandbox.subscriptions)
        self.assertIn(other, self.sandbox.subscriptions)
        [mine] = [s for s in self.sandbox.subscriptions.values() if s["url"] == self.url]
        self.assertEqual(set(mine["topics"]), set(shipbob.PUBLIC_TOPICS))

    def test_a_refusal_is_told_in_plain_words(self):
        self.backend.environment = "production"
        with self.assertRaisesRegex(UserError, "ShipBob only calls https addresses"):
            self.backend.action_shipbob_register_webhooks()
        self.backend.environment = "test"
        self.backend.endpoint_ids.token = "wrong-token"
        answer = self.backend.action_shipbob_register_webhooks()
        self.assertEqual(answer["params"]["type"], "danger")
        self.assertFalse(self.sandbox.subscriptions)

    def api_subscription(self, topics, url):
        with self.sandbox._lock:
            reply = self.sandbox._webhooks("POST", [], {"topics": topics, "url": url})
        return reply.payload["id"]
