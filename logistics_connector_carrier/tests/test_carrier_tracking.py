"""Parcel tracking: the sandbox posts signed EasyPost events to Odoo's webhook route (real
HTTP), or Odoo polls the carrier; events are applied through queue_job."""

import json

import requests

from tests.sandboxes.carrier_partner import sign

from .common import WEBHOOK_SECRET, CarrierCase, CarrierHttpCase


class TestTrackingWebhooks(CarrierHttpCase):
    def shipped(self):
        picking = self.validate(self.make_picking(1.0))
        return picking, picking.logistics_label_ids

    def test_events_duplicated_and_out_of_order_end_delivered_with_one_email(self):
        picking, label = self.shipped()
        code = label.tracking_number
        self.assertEqual(
            self.sandbox.advance(code, "in_transit") and self.sandbox.deliveries[-1]["status_code"],
            202,
        )
        self.run_jobs()
        self.assertEqual(label.delivery_state, "in_transit")
        out = self.sandbox.advance(code, "out_for_delivery", send=False)
        delivered = self.sandbox.advance(code, "delivered", signed_by="A. Customer", send=False)
        self.assertEqual(
            self.sandbox.deliver(delivered, times=2), [202, 200], "a duplicate is stored once"
        )
        self.sandbox.deliver(out)  # late
        self.run_jobs()
        self.assertEqual(label.delivery_state, "delivered")
        self.assertEqual(label.signed_by, "A. Customer")
        self.assertEqual(picking.logistics_tracking_status, "delivered")
        statuses = sorted(label.event_ids.mapped("status"))
        self.assertEqual(
            statuses, sorted(["label_created", "in_transit", "out_for_delivery", "delivered"])
        )
        late = self.sandbox.advance(code, "in_transit", send=True)  # a scan after delivery
        self.assertTrue(late)
        self.run_jobs()
        self.assertEqual(label.delivery_state, "delivered", "a late event never moves it back")
        self.assertFalse(
            label.event_ids.filtered(
                lambda e: (
                    e.status == "in_transit"
                    and e.applied
                    and e.occurred_at > label.delivery_state_at
                )
            )
        )
        mails = self.env["mail.message"].search(
            [("model", "=", "stock.picking"), ("res_id", "=", picking.id),
             ("partner_ids", "in", self.customer.ids)]
        )  # fmt: skip
        self.assertEqual(len(mails), 1, "one email: delivered (the shipping method's choice)")
        self.assertIn("was delivered", mails.subject)

    def test_failed_attempt_and_address_problem_become_exceptions(self):
        picking, label = self.shipped()
        self.sandbox.advance(label.tracking_number, "failure", status_detail="attempted_delivery")
        self.run_jobs()
        self.assertEqual(picking.logistics_tracking_status, "failed_attempt")
        self.assertIn("failed_delivery", self.open_exceptions(picking).mapped("exception_type"))
        self.sandbox.advance(label.tracking_number, "failure", status_detail="address_not_found")
        self.run_jobs()
        self.assertIn("address_invalid", self.open_exceptions(picking).mapped("exception_type"))
        self.assertEqual(picking.logistics_tracking_status, "exception")

    def test_forged_or_unsigned_events_are_refused(self):
        _picking, label = self.shipped()
        event = self.sandbox.advance(label.tracking_number, "in_transit", send=False)
        body = json.dumps(event).encode()
        url = self._webhook_url()
        forged = requests.post(
            url, data=body, headers={"X-Hmac-Signature": sign("not-the-secret", body)}, timeout=10
        )
        self.assertEqual(forged.status_code, 401)
        unsigned = requests.post(url, data=body, timeout=10)
        self.assertEqual(unsigned.status_code, 400)
        not_event = b'{"object": "Tracker"}'
        refused = requests.post(
            url,
            data=not_event,
            headers={"X-Hmac-Signature": sign(WEBHOOK_SECRET, not_event)},
            timeout=10,
        )
        self.assertEqual(refused.status_code, 400)


class TestTrackingPolling(CarrierCase):
    def test_polling_follows_a_parcel_and_stops_at_its_final_state(self):
        self.carrier.logistics_tracking = "poll"
        picking = self.validate(self.make_picking(1.0))
        label = picking.logistics_label_ids
        self.sandbox.advance(label.tracking_number, "in_transit", send=False)
        self.env["logistics.carrier.label"]._cron_poll_tracking()
        self.run_jobs()
        self.assertEqual(label.delivery_state, "in_transit")
        self.sandbox.advance(label.tracking_number, "delivered", send=False)
        self.env["logistics.carrier.label"]._cron_poll_tracking()
        self.run_jobs()
        self.assertEqual(label.delivery_state, "delivered")
        polls = [r for r in self.sandbox.requests if r["path"].startswith("/v2/trackers")]
        self.assertEqual(len(polls), 2)
        self.env["logistics.carrier.label"]._cron_poll_tracking()
        polls = [r for r in self.sandbox.requests if r["path"].startswith("/v2/trackers")]
        self.assertEqual(len(polls), 2, "a delivered parcel is not asked about again")
