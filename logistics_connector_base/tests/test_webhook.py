import json
import time
from datetime import timedelta

import requests

from odoo import fields
from odoo.addons.logistics_connector_base.lib import webhook_signature
from odoo.tests import tagged

from .common import WEBHOOK_SECRET, LogisticsHttpCase


@tagged("post_install", "-at_install")
class TestWebhookIntake(LogisticsHttpCase):
    def setUp(self):
        super().setUp()
        self.url = f"{self.base_url()}/logistics/webhook/{self.backend.sudo().webhook_token}"

    def tracking_event(
        self, number="1Z999", status="in_transit", occurred_at="2026-11-20T10:00:00Z"
    ):
        return {
            "schema": "tracking_event/1",
            "tracking_number": number,
            "status": status,
            "occurred_at": occurred_at,
        }

    def shipped_picking(self, tracking_ref):
        """A delivery order released to the partner, with a tracking number."""
        picking = self.make_picking()
        self.release(picking)
        picking.logistics_tracking_ref = tracking_ref
        return picking

    def inbound(self):
        return self.env["logistics.message"].search(
            [("backend_id", "=", self.backend.id), ("direction", "=", "inbound")]
        )

    def audit_rejections(self):
        return self.env["logistics.audit.log"].search(
            [("backend_id", "=", self.backend.id), ("event", "=", "webhook_rejected")]
        )

    def post_raw(self, body, headers):
        return requests.post(self.url, data=body, headers=headers, timeout=10)

    def signed_headers(self, body, msg_id="msg_raw_1", timestamp=None, secret=WEBHOOK_SECRET):
        timestamp = int(timestamp if timestamp is not None else time.time())
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": webhook_signature.sign(secret, msg_id, timestamp, body),
            "Content-Type": "application/json",
        }

    def test_signed_delivery_is_stored_raw_and_applied_by_its_job(self):
        picking = self.shipped_picking("1Z999")
        self.env.flush_all()
        status, text = self.sandbox.send_webhook(
            self.url, "tracking.updated", self.tracking_event(), msg_id="msg_ok_1"
        )
        self.assertEqual(status, 202, text)
        message = self.inbound()
        self.assertEqual(message.state, "queued")
        self.assertEqual(message.external_id, "msg_ok_1")
        self.assertEqual(json.loads(message._raw_payload())["data"]["tracking_number"], "1Z999")
        self.assertNotIn(WEBHOOK_SECRET, json.dumps(message.wire_headers))
        self.run_jobs()
        self.assertEqual(message.state, "done")
        self.assertEqual(message.document_schema, "tracking_event/1")
        self.assertEqual(picking.logistics_tracking_status, "in_transit")
        self.assertEqual(message.correlation_id, picking.logistics_correlation_id)

    def test_duplicate_delivery_gets_200_and_no_second_message(self):
        data = self.tracking_event()
        body = json.dumps({"type": "tracking.updated", "data": data}).encode()
        headers = self.signed_headers(body, msg_id="msg_dup")
        self.assertEqual(self.post_raw(body, headers).status_code, 202)
        again = self.post_raw(body, headers)
        self.assertEqual(again.status_code, 200)
        self.assertIn("duplicate", again.json()["detail"])
        self.assertEqual(len(self.inbound()), 1)

    def test_seen_id_with_another_body_is_refused(self):
        body = json.dumps({"type": "t", "data": self.tracking_event()}).encode()
        self.assertEqual(self.post_raw(body, self.signed_headers(body, "msg_x")).status_code, 202)
        other = json.dumps({"type": "t", "data": self.tracking_event(status="delivered")}).encode()
        response = self.post_raw(other, self.signed_headers(other, "msg_x"))
        self.assertEqual(response.status_code, 409)
        self.assertEqual(len(self.inbound()), 1)
        self.assertTrue(self.audit_rejections())

    def test_bad_signature_is_401_and_audited(self):
        status, text = self.sandbox.send_webhook(
            self.url, "t", self.tracking_event(), secret=webhook_signature.generate_secret()
        )
        self.assertEqual(status, 401, text)
        self.assertFalse(self.inbound())
        rejection = self.audit_rejections()
        self.assertEqual(len(rejection), 1)
        self.assertIn("401", rejection.summary)

    def test_tampered_body_is_401(self):
        body = json.dumps({"type": "t", "data": self.tracking_event()}).encode()
        headers = self.signed_headers(body)
        response = self.post_raw(body.replace(b"in_transit", b"delivered"), headers)
        self.assertEqual(response.status_code, 401)
        self.assertFalse(self.inbound())

    def test_timestamp_outside_the_window_is_401(self):
        body = json.dumps({"type": "t", "data": self.tracking_event()}).encode()
        for skew in (-360, 360):  # well outside the 5 minutes, however slow the machine
            response = self.post_raw(body, self.signed_headers(body, timestamp=time.time() + skew))
            self.assertEqual(response.status_code, 401, skew)
            self.assertIn("timestamp", response.json()["detail"])
        self.assertFalse(self.inbound())

    def test_missing_headers_are_400(self):
        body = json.dumps({"type": "t", "data": self.tracking_event()}).encode()
        response = self.post_raw(body, {"Content-Type": "application/json"})
        self.assertEqual(response.status_code, 400)
        self.assertTrue(response.json()["detail"])

    def test_unknown_token_is_404(self):
        status, _text = self.sandbox.send_webhook(
            f"{self.base_url()}/logistics/webhook/no-such-token", "t", self.tracking_event()
        )
        self.assertEqual(status, 404)

    def test_oversize_body_is_413(self):
        self.backend.webhook_max_body_kb = 1
        self.env.flush_all()
        body = json.dumps({"type": "t", "data": {"pad": "x" * 4000}}).encode()
        response = self.post_raw(body, self.signed_headers(body))
        self.assertEqual(response.status_code, 413)
        self.assertFalse(self.inbound())
        self.assertTrue(self.audit_rejections())

    def test_malformed_body_is_400_with_a_reason_and_audited(self):
        body = b'{"type": "t", "data": {'
        response = self.post_raw(body, self.signed_headers(body))
        self.assertEqual(response.status_code, 400)
        self.assertIn("not valid JSON", response.json()["detail"])
        self.assertTrue(self.audit_rejections())

    def test_previous_secret_is_accepted_during_rotation_only(self):
        self.backend.action_rotate_webhook_secret()
        self.env.flush_all()
        self.assertNotEqual(self.backend.sudo().webhook_secret, WEBHOOK_SECRET)
        status, text = self.sandbox.send_webhook(
            self.url, "t", self.tracking_event(), msg_id="during_grace"
        )
        self.assertEqual(status, 202, text)
        self.backend.sudo().webhook_secret_previous_expiry = fields.Datetime.now() - timedelta(
            seconds=1
        )
        self.env.flush_all()
        status, _text = self.sandbox.send_webhook(
            self.url, "t", self.tracking_event(), msg_id="after_grace"
        )
        self.assertEqual(status, 401)
        status, text = self.sandbox.send_webhook(
            self.url,
            "t",
            self.tracking_event(),
            msg_id="new_secret",
            secret=self.backend.sudo().webhook_secret,
        )
        self.assertEqual(status, 202, text)

    def test_applier_is_monotonic(self):
        picking = self.shipped_picking("1Z42")
        self.env.flush_all()
        for msg_id, event in (
            ("e1", self.tracking_event("1Z42", "delivered", "2026-11-21T10:00:00Z")),
            ("e2", self.tracking_event("1Z42", "in_transit", "2026-11-20T10:00:00Z")),
        ):
            status, text = self.sandbox.send_webhook(self.url, "t", event, msg_id=msg_id)
            self.assertEqual(status, 202, text)
        self.run_jobs()
        self.assertEqual(set(self.inbound().mapped("state")), {"done"})
        self.assertEqual(picking.logistics_tracking_status, "delivered", "a late event never wins")

    def test_invalid_document_fails_with_a_validation_exception(self):
        status, text = self.sandbox.send_webhook(
            self.url, "t", {"schema": "tracking_event/1", "status": "teleported"}, msg_id="bad"
        )
        self.assertEqual(status, 202, text)
        self.run_jobs()
        message = self.inbound()
        self.assertEqual(message.state, "failed")
        self.assertEqual(message.error_class, "validation")
        self.assertEqual(message.exception_ids.exception_type, "validation_error")
        self.assertTrue(message._raw_payload(), "the raw delivery is kept for replay")

    def test_events_apply_in_their_own_time_zone_and_company(self):
        picking = self.shipped_picking("1ZTZ")
        self.env.flush_all()
        # 23:30 in UTC-05:00 is 04:30 UTC the next day: later than 02:00 UTC.
        for msg_id, event in (
            ("tz1", self.tracking_event("1ZTZ", "in_transit", "2026-11-21T02:00:00Z")),
            ("tz2", self.tracking_event("1ZTZ", "in_transit", "2026-11-20T23:30:00-05:00")),
        ):
            status, text = self.sandbox.send_webhook(self.url, "t", event, msg_id=msg_id)
            self.assertEqual(status, 202, text)
        self.run_jobs()
        self.assertEqual(str(picking.logistics_tracking_date), "2026-11-21 04:30:00")

    def test_deeply_nested_body_is_400(self):
        body = b"[" * 100000 + b"]" * 100000
        response = self.post_raw(body, self.signed_headers(body))
        self.assertEqual(response.status_code, 400)
        self.assertIn("nested too deeply", response.json()["detail"])

    def test_our_broken_secret_is_a_retryable_503_and_a_work_item(self):
        self.backend.sudo().webhook_secret = "not-a-valid-secret!!"
        self.env.flush_all()
        status, _text = self.sandbox.send_webhook(self.url, "t", self.tracking_event())
        self.assertEqual(status, 503, "the partner keeps the event and retries")
        self.assertFalse(self.inbound())
        exception = self.env["logistics.exception"].search(
            [("backend_id", "=", self.backend.id), ("exception_type", "=", "configuration_error")]
        )
        self.assertEqual(len(exception), 1)

    def test_the_adapter_routes_a_delivery_to_the_flow_of_its_document(self):
        status, text = self.sandbox.send_webhook(self.url, "t", self.tracking_event())
        self.assertEqual(status, 202, text)
        self.assertEqual(self.inbound().flow, "tracking_event")

    def test_a_body_carrying_several_documents_keeps_and_applies_all(self):
        first, second = self.shipped_picking("1ZA"), self.shipped_picking("1ZB")
        self.env.flush_all()
        events = [self.tracking_event("1ZA"), self.tracking_event("1ZB", status="delivered")]
        status, text = self.sandbox.send_webhook(self.url, "tracking.batch", events)
        self.assertEqual(status, 202, text)
        message = self.inbound()
        self.run_jobs()
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(
            [doc["tracking_number"] for doc in message.canonical_payload], ["1ZA", "1ZB"]
        )
        self.assertEqual(first.logistics_tracking_status, "in_transit")
        self.assertEqual(second.logistics_tracking_status, "delivered")

    def test_a_body_without_a_document_is_400_and_not_stored(self):
        status, text = self.sandbox.send_webhook(self.url, "t", "just a string")
        self.assertEqual(status, 400, text)
        self.assertIn("no 'data' object", text)
        self.assertFalse(self.inbound())

    def test_no_signing_secret_is_our_configuration_error_not_the_senders(self):
        self.backend.sudo().write({"webhook_secret": False, "webhook_secret_previous": False})
        self.env.flush_all()
        status, _text = self.sandbox.send_webhook(self.url, "t", self.tracking_event())
        self.assertEqual(status, 503, "the partner keeps the event and retries")
        exception = self.env["logistics.exception"].search(
            [("backend_id", "=", self.backend.id), ("exception_type", "=", "configuration_error")]
        )
        self.assertIn("no webhook signing secret", exception.description)

    def test_a_partner_whose_adapter_is_gone_answers_503_with_a_work_item(self):
        self.env.cr.execute(
            "UPDATE logistics_backend SET adapter = 'ghost_rest' WHERE id = %s", (self.backend.id,)
        )
        self.backend.invalidate_recordset(["adapter"])
        status, _text = self.sandbox.send_webhook(self.url, "t", self.tracking_event())
        self.assertEqual(status, 503)
        self.assertFalse(self.inbound())
        exception = self.env["logistics.exception"].search(
            [("backend_id", "=", self.backend.id), ("exception_type", "=", "configuration_error")]
        )
        self.assertIn("ghost_rest", exception.description)

    def test_a_partner_cannot_change_another_partners_delivery(self):
        picking = self.shipped_picking("1ZOTHER")
        other = self.env["logistics.backend"].create(
            {"name": "Other carrier", "code": "other_carrier", "webhook_secret": WEBHOOK_SECRET}
        )
        self.env.flush_all()
        other_url = f"{self.base_url()}/logistics/webhook/{other.sudo().webhook_token}"
        event = self.tracking_event("1ZOTHER", "delivered")
        status, text = self.sandbox.send_webhook(other_url, "t", event)
        self.assertEqual(status, 202, text)
        message = self.env["logistics.message"].search([("backend_id", "=", other.id)])
        message._process()
        self.assertEqual(message.state, "failed")
        self.assertIn("No delivery order exchanged with Other carrier", message.error_message)
        self.assertEqual(message.exception_ids.exception_type, "document_not_applied")
        self.assertFalse(picking.logistics_tracking_status, "not marked delivered by a stranger")
        # The partner it was exchanged with still moves it.
        status, text = self.sandbox.send_webhook(self.url, "t", self.tracking_event("1ZOTHER"))
        self.run_jobs()
        self.assertEqual(picking.logistics_tracking_status, "in_transit")

    def refusal_counts(self):
        return self.env["logistics.webhook.refusal"].search([("backend_id", "=", self.backend.id)])

    def test_a_flood_of_refusals_is_counted_not_audited_one_by_one_and_slowed_down(self):
        self.env["ir.config_parameter"].set_param(
            "logistics_connector.webhook_refusals_per_minute", "4"
        )
        body = json.dumps({"type": "t", "data": self.tracking_event()}).encode()
        forged = self.signed_headers(body, secret=webhook_signature.generate_secret())
        statuses = [self.post_raw(body, forged).status_code for _attempt in range(6)]
        self.assertEqual(statuses, [401, 401, 401, 401, 429, 429])
        self.assertEqual(len(self.audit_rejections()), 1, "audited once for the minute")
        refusals = self.refusal_counts()
        self.assertEqual(refusals.count, 6)
        self.assertEqual(refusals.status, 401)
        self.assertEqual(refusals.remote_addr, "127.0.0.1")
        self.assertFalse(self.inbound())

    def test_a_chunked_body_is_read_within_the_partners_limit(self):
        body = json.dumps({"type": "t", "data": self.tracking_event()}).encode()
        headers = self.signed_headers(body, msg_id="msg_chunked")
        response = requests.post(
            self.url, data=iter([body[:10], body[10:]]), headers=headers, timeout=10
        )
        self.assertEqual(response.status_code, 202, response.text)
        self.assertEqual(self.inbound()._raw_payload(), body)
        self.backend.webhook_max_body_kb = 1
        self.env.flush_all()
        big = json.dumps({"type": "t", "data": {"pad": "x" * 4000}}).encode()
        response = requests.post(
            self.url,
            data=iter([big[:2000], big[2000:]]),
            headers=self.signed_headers(big),
            timeout=30,
        )
        self.assertEqual(response.status_code, 413)
        self.assertIn("chunked body exceeds the limit of 1024 bytes", response.json()["detail"])

    def test_a_signed_form_post_is_judged_on_its_raw_body(self):
        body = b"type=t&tracking_number=1Z999"
        headers = self.signed_headers(body, msg_id="msg_form")
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        response = self.post_raw(body, headers)
        # The signature covers the raw bytes Odoo would have parsed away: it verifies, and
        # the JSON adapter says what it expected instead of blaming the signature.
        self.assertEqual(response.status_code, 400, response.text)
        self.assertIn("not valid JSON", response.json()["detail"])

    def test_light_events_are_applied_in_batches_and_a_bad_one_fails_alone(self):
        pickings = [self.shipped_picking(f"1ZBATCH{index}") for index in range(3)]
        self.env.flush_all()
        events = [self.tracking_event(f"1ZBATCH{index}") for index in range(3)]
        events.insert(1, self.tracking_event("1ZNOBODY"))  # no such delivery
        for index, event in enumerate(events):
            status, text = self.sandbox.send_webhook(self.url, "t", event, msg_id=f"b{index}")
            self.assertEqual(status, 202, text)
        messages = self.inbound()
        self.assertEqual(len(set(messages.mapped("job_uuid"))), 1, "one job for the four")
        batch_results = [result for result in self.run_jobs() if result[0].isdigit()]
        self.assertEqual(len(batch_results), 1, "one job applied the four")
        self.assertEqual(set(batch_results[0].split(", ")), {"3 done", "1 failed"})
        self.assertEqual([p.logistics_tracking_status for p in pickings], ["in_transit"] * 3)
        failed = messages.filtered(lambda m: m.state == "failed")
        self.assertIn("1ZNOBODY", failed.error_message)
        # The rolled-back first pass left no audit entry behind; the second pass one each.
        received = self.env["logistics.audit.log"].search(
            [("message_id", "in", messages.ids), ("event", "=", "receive")]
        )
        self.assertEqual(received.message_id, messages - failed)
        self.assertEqual(len(received), 3)

    def test_a_batch_larger_than_the_partners_size_continues_in_a_new_job(self):
        self.backend.inbound_batch_size = 2
        for index in range(3):
            self.shipped_picking(f"1ZMORE{index}")
            status, _text = self.sandbox.send_webhook(
                self.url, "t", self.tracking_event(f"1ZMORE{index}"), msg_id=f"m{index}"
            )
            self.assertEqual(status, 202)
        all_results = self.run_jobs()
        batch_results = [result for result in all_results if result[0].isdigit()]
        self.assertEqual(
            batch_results,
            ["2 done", "1 done"],
            (all_results, self.inbound().mapped(lambda m: (m.state, m.job_uuid))),
        )
        self.assertEqual(set(self.inbound().mapped("state")), {"done"})
        # Applied together, audited one by one.
        audited = self.env["logistics.audit.log"].search(
            [("message_id", "in", self.inbound().ids), ("event", "=", "receive")]
        )
        self.assertEqual(audited.message_id, self.inbound())
        self.assertEqual(len(audited), 3)
