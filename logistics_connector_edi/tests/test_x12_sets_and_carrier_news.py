"""Per-partner set mapping, 214 carrier status and 210 freight invoices end to end: real Odoo,
real queue_job jobs, a real OpenSSH SFTP server and the EDI partner sandbox."""

import datetime

from odoo.tests import tagged

from ..x12 import validate
from .common import X12PartnerCase


@tagged("post_install", "-at_install")
class TestX12SetsAndCarrierNews(X12PartnerCase):
    def mapping(self, direction, set_id):
        return self.backend.x12_set_mapping_ids.filtered(
            lambda m: m.direction == direction and m.set_id == set_id
        )

    def answers(self):
        return [p.read_text() for p in self.files("to_partner") if p.name.startswith("997_")]

    def shipped_by_the_partner(self, quantity=1):
        """A delivery released as a 940, shipped by the partner's 945 (with a tracking
        number, MAN*CP), the 997s exchanged; returns (picking, tracking number)."""
        picking = self.released_delivery([(self.product, quantity)])
        self.partner.work_once()
        self.poll_and_run()
        self.assertEqual(picking.state, "done")
        tracking = f"1Z{picking.name[-6:]}0001"
        self.assertEqual(picking.logistics_tracking_ref, tracking)
        return picking, tracking

    # ---- the mapping -----------------------------------------------------------------------
    def test_a_received_set_without_mapping_is_refused_with_a_997_and_applied_once_mapped(self):
        self.mapping("inbound", "846").active = False
        self.env.flush_all()  # the poll files messages from a transaction of its own
        name = self.partner.send_inventory([("WIDGET-1", 10, 8)], reference="INV-UNMAPPED")
        self.poll_and_run()
        [message] = self.env["logistics.message"].search(
            [("backend_id", "=", self.backend.id), ("direction", "=", "inbound")]
        )
        self.assertEqual(message.flow, "file", "no flow to file it under")
        self.assertEqual(message.state, "failed")
        self.assertIn("transaction set not supported", message.error_message)
        self.assertIn(
            "has no active Received line for the 846 Inventory Inquiry/Advice under Transaction "
            "Sets on its EDI tab",
            message.error_message,
        )
        exception = message.exception_ids
        self.assertEqual(exception.exception_type, "validation_error")
        self.assertIn("add one (choose the flow it feeds)", exception.description)
        [answer] = self.answers()
        self.assertIn("AK2*846*0001~\nAK5*R*1~\nAK9*R*1*1*0~", answer)
        self.assertEqual(validate(answer).status, "accepted", "a well-formed rejecting 997")
        self.assertTrue((self.root / "error" / name).exists(), "refused file set aside")
        self.assertFalse(
            self.env["logistics.inventory.report"].search([("backend_id", "=", self.backend.id)])
        )

        self.mapping("inbound", "846").active = True
        self.env.flush_all()
        self.partner.send_inventory([("WIDGET-1", 10, 8)], reference="INV-UNMAPPED")
        self.poll_and_run()
        [applied] = self.inbound("inventory_snapshot")
        self.assertDone(applied)
        self.assertEqual(
            len(
                self.env["logistics.inventory.report"].search(
                    [("backend_id", "=", self.backend.id)]
                )
            ),
            1,
        )

    def test_a_214_for_an_unknown_parcel_is_filed_under_its_flow_and_explained(self):
        self.partner.send_status("1ZNOWHERE", "WH/OUT/NONE", [("AF", "20250301", "1000")])
        self.poll_and_run()
        [status] = self.inbound("tracking_event")
        self.assertEqual(status.state, "failed")
        self.assertIn("No delivery order exchanged with", status.error_message)

    def test_a_flow_without_a_sent_set_fails_in_plain_words_and_sends_nothing(self):
        self.mapping("outbound", "940").active = False
        self.put_in_stock(self.product, 5)
        release = self.release(self.transfer([(self.product, 1)]))
        self.run_jobs()
        self.assertEqual(release.state, "failed")
        self.assertIn(
            "has no transaction set for Order Release messages: add a Sent line",
            release.error_message,
        )
        self.assertFalse(self.files("to_partner"))
        self.assertFalse(self.interchanges("outbound"), "no control numbers drawn")

    def test_a_005010_partner_gets_00501_envelopes_and_its_answers_are_applied(self):
        self.backend.x12_version = "005010"
        self.partner.version = "005010"
        picking = self.released_delivery([(self.product, 2)])
        [sent] = self.files("to_partner")
        text = sent.read_text()
        self.assertEqual(text[3], "*")
        self.assertEqual(text[:106].split("*")[11:13], ["^", "00501"], "ISA11, ISA12")
        self.assertIn("*X*005010~", text, "GS08")
        self.partner.work_once()
        self.poll_and_run()
        [shipment] = self.inbound("shipment")
        self.assertDone(shipment)
        self.assertEqual(picking.state, "done")
        self.assertEqual(self.interchanges("outbound")[:1].ack_state, "accepted")
        for answer in self.answers():
            self.assertIn("*00501*", answer[:106])
            self.assertEqual(validate(answer, rules=self.backend._x12_rules()).status, "accepted")

    def test_a_004010_file_from_a_005010_partner_is_refused_for_its_version(self):
        self.backend.x12_version = "005010"
        self.env.flush_all()
        self.partner.send_inventory([("WIDGET-1", 1, 1)])
        self.poll_and_run()
        [message] = self.inbound("inventory_snapshot")
        self.assertEqual(message.state, "failed")
        self.assertIn("004010", message.error_message)

    # ---- 214 carrier shipment status ---------------------------------------------------------
    def test_214_statuses_reach_the_delivery_never_backwards_and_a_duplicate_is_refused(self):
        picking, tracking = self.shipped_by_the_partner()
        self.partner.send_status(
            tracking,
            picking.name,
            [
                ("AF", "20250301", "1000", "Memphis", "TN"),
                ("D1", "20250302", "1530", "Chicago", "IL"),
            ],
        )
        self.poll_and_run()
        [status] = self.inbound("tracking_event")
        self.assertDone(status)
        self.assertEqual((status.res_model, status.res_id), ("stock.picking", picking.id))
        self.assertEqual(picking.logistics_tracking_status, "delivered")
        self.assertEqual(picking.logistics_tracking_date, datetime.datetime(2025, 3, 2, 15, 30))
        [received] = status.x12_interchange_ids
        self.assertEqual((received.functional_ids, received.set_summary), ("QM", "214 0001"))
        self.assertTrue(any("AK1*QM*" in answer for answer in self.answers()))

        # the same interchange control number again, with other news: refused, not applied
        self.partner.inject("duplicate_control")
        self.partner.send_status(tracking, picking.name, [("SD", "20250303", "0900")])
        # an older status under a new number: taken, but the delivery stays delivered
        self.partner.send_status(tracking, picking.name, [("X6", "20250301", "1200")])
        self.poll_and_run()
        duplicate, older = self.env["logistics.message"].search(
            [
                ("backend_id", "=", self.backend.id),
                ("direction", "=", "inbound"),
                ("id", ">", status.id),
                ("flow", "=", "tracking_event"),
            ],
            order="id",
        )
        self.assertEqual(duplicate.state, "failed")
        self.assertIn("refused as a duplicate", duplicate.error_message)
        self.assertDone(older)
        self.assertEqual(picking.logistics_tracking_status, "delivered")
        self.assertEqual(picking.logistics_tracking_date, datetime.datetime(2025, 3, 2, 15, 30))

    def test_214_for_a_parcel_with_a_label_goes_to_its_tracking_history_once(self):
        picking, tracking = self.shipped_by_the_partner()
        label = self.label_for(picking, tracking, 12.5)
        events = [
            ("AF", "20250301", "1000", "Memphis", "TN"),
            ("D1", "20250302", "1530", "Chicago", "IL"),
        ]
        self.partner.send_status(tracking, picking.name, events)
        self.partner.send_status(tracking, picking.name, events)  # resent under a new ISA13
        self.poll_and_run()
        first, again = self.inbound("tracking_event")
        self.assertDone(first)
        self.assertDone(again)
        self.assertEqual(
            label.event_ids.sorted("occurred_at").mapped(
                lambda e: (e.partner_status, e.status, e.location)
            ),
            [("AF", "in_transit", "Memphis, TN, US"), ("D1", "delivered", "Chicago, IL, US")],
            "each status once",
        )
        self.assertEqual(label.delivery_state, "delivered")
        self.assertEqual(label.delivery_state_at, datetime.datetime(2025, 3, 2, 15, 30))

    def test_the_demo_partner_reports_each_shipped_parcel_delivered(self):
        self.partner.carrier_updates = True
        picking = self.released_delivery([(self.product, 1)])
        self.partner.work_once()
        self.poll_and_run()
        self.assertEqual(picking.state, "done")
        [status] = self.inbound("tracking_event")
        self.assertDone(status)
        self.assertEqual(picking.logistics_tracking_status, "delivered")

    # ---- 210 freight invoice -----------------------------------------------------------------
    def label_for(self, picking, tracking, cost):
        """The label bought for the parcel (what the carrier quoted), as the carrier addon
        records it."""
        service = self.env["product.product"].create({"name": "Freight", "type": "service"})
        carrier = self.env["delivery.carrier"].create(
            {"name": "EDI freight", "product_id": service.id, "delivery_type": "fixed"}
        )
        return self.env["logistics.carrier.label"].create(
            {
                "picking_id": picking.id,
                "carrier_id": carrier.id,
                "backend_id": self.backend.id,
                "state": "bought",
                "idempotency_key": f"edi-test-label:{picking.id}",
                "tracking_number": tracking,
                "cost": cost,
                "cost_currency_id": self.env.ref("base.USD").id,
            }
        )

    def test_210_invoices_are_reconciled_once_and_an_overcharge_is_for_finance(self):
        picking, tracking = self.shipped_by_the_partner()
        label = self.label_for(picking, tracking, 12.5)
        self.partner.send_freight_invoice("FI-1", picking.name, 12.5, weight=3)
        self.poll_and_run()
        [bill] = self.inbound("freight_invoice")
        self.assertDone(bill)
        invoices = self.env["logistics.freight.invoice"].search(
            [("backend_id", "=", self.backend.id)]
        )
        self.assertEqual(invoices.mapped("name"), ["FI-1"])
        self.assertEqual((bill.res_model, bill.res_id), (invoices._name, invoices.id))
        self.assertEqual((invoices.source, invoices.total_amount), ("edi", 12.5))
        self.assertEqual(invoices.line_ids.label_id, label)
        self.assertEqual(invoices.line_ids.picking_id, picking)
        self.assertEqual(invoices.state, "matched")

        # the same interchange number again: refused; the same invoice under a new number:
        # taken, but recorded once
        self.partner.inject("duplicate_control")
        self.partner.send_freight_invoice("FI-1", picking.name, 99.0)
        self.partner.send_freight_invoice("FI-1", picking.name, 12.5)
        self.partner.send_freight_invoice("FI-2", picking.name, 20.0)
        self.poll_and_run()
        duplicate, again, overcharge = self.inbound("freight_invoice")[1:]
        self.assertEqual(duplicate.state, "failed")
        self.assertIn("refused as a duplicate", duplicate.error_message)
        self.assertDone(again)
        self.assertDone(overcharge)
        invoices = self.env["logistics.freight.invoice"].search(
            [("backend_id", "=", self.backend.id)], order="name"
        )
        self.assertEqual(invoices.mapped("name"), ["FI-1", "FI-2"])
        self.assertEqual(invoices[0].total_amount, 12.5, "the refused 99.00 never applied")
        self.assertEqual(invoices[1].state, "discrepancy")
        self.assertAlmostEqual(invoices[1].difference, 7.5, places=2)
        [finance] = self.exceptions("freight_discrepancy")
        self.assertEqual((finance.res_model, finance.res_id), (invoices._name, invoices[1].id))
        self.assertIn("charged 20.00, expected 12.50", finance.description)
