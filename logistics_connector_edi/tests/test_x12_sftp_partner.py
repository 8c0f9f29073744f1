"""The X12 partner end to end: real Odoo, real queue_job jobs, a real OpenSSH SFTP server and
the EDI trading partner sandbox working its folders."""

import threading
import time
from datetime import timedelta

from odoo import SUPERUSER_ID, api, fields
from odoo.addons.logistics_connector_base.lib.errors import ConfigurationError
from odoo.sql_db import db_connect
from odoo.tests import TransactionCase, tagged

from ..x12 import validate
from .common import X12PartnerCase


@tagged("post_install", "-at_install")
class TestX12Partner(X12PartnerCase):
    # ---- the cycles ----------------------------------------------------------------------
    def test_940_out_997_and_945_in_ship_the_order_and_every_group_gets_a_997(self):
        picking = self.released_delivery([(self.product, 3)])
        [sent] = self.files("to_partner")
        text = sent.read_text()
        report = validate(text)
        self.assertEqual(report.status, "accepted", report.findings())
        self.assertIn(f"W05*N*{picking.name}~", text)
        self.assertIn("W01*3*EA**SK*WIDGET-1~", text)
        self.assertTrue(text[:106].endswith("*T*>~"), "test environment: ISA15 = T")
        [outbound] = self.interchanges("outbound")
        self.assertEqual(outbound.ack_state, "pending")
        self.assertEqual(sent.name, outbound.file_name)

        self.partner.work_once()
        self.assertEqual(self.partner.orders, [picking.name])
        counts = self.poll_and_run()
        self.assertEqual(counts["received"], 2)

        [shipment] = self.inbound("shipment")
        self.assertDone(shipment)
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.move_ids.quantity, 3)
        [ack] = self.inbound("ack")
        self.assertDone(ack)
        release = self.env["logistics.message"].search(
            [("res_id", "=", picking.id), ("flow", "=", "order_release")]
        )
        self.assertTrue(release.acknowledged)
        self.assertEqual(outbound.ack_state, "accepted")

        # our 997s answer the partner's two groups (the 997 and the 945)
        answers = [p for p in self.files("to_partner") if p.name.startswith("997_")]
        self.assertEqual(len(answers), 2)
        for answer in answers:
            self.assertEqual(validate(answer.read_text()).status, "accepted")
            self.assertIn("AK9*A*1*1*1~", answer.read_text())
        received = self.interchanges("inbound")
        self.assertEqual(set(received.mapped("result")), {"accepted"})
        self.env.invalidate_all()  # recorded by the sender's own (committed) transaction
        self.assertEqual(release.x12_interchange_ids, outbound)
        self.assertIn("W05 | N | " + picking.name, outbound.segment_view)
        self.assertIn("W06 | F | " + picking.name, shipment.x12_interchange_ids.segment_view)

    def test_943_out_997_and_944_in_receive_the_goods(self):
        picking = self.transfer([(self.product, 4)], incoming=True)
        document = {
            "schema": "receipt/1",
            "reference": picking.name,
            "stage": "expected",
            "warehouse_code": "SBX-WH1",
            "lines": [
                {
                    "line_ref": str(picking.move_ids.id),
                    "sku": "WIDGET-1",
                    "uom": "EA",
                    "quantity_expected": 4,
                }
            ],
        }
        asn = self.env["logistics.message"]._create_outbound(
            self.backend, "receipt", picking, document=document
        )
        self.run_jobs()
        self.assertDone(asn)
        [sent] = self.files("to_partner")
        self.assertIn(f"W06*F*{picking.name}~", sent.read_text())
        self.assertIn("W04*4*EA**SK*WIDGET-1~", sent.read_text())
        self.assertEqual(validate(sent.read_text()).status, "accepted")

        self.partner.work_once()
        self.assertEqual(self.partner.received_asns, [picking.name])
        self.poll_and_run()
        [receipt] = self.inbound("receipt")
        self.assertDone(receipt)
        self.assertEqual(picking.state, "done")
        self.assertEqual(self.on_hand(self.product), 4)
        self.assertTrue(asn.acknowledged)

    def test_a_validated_delivery_sends_an_856_with_its_packages(self):
        self.backend.write({"x12_send_856": True, "partner_id": self.customer.id})
        self.put_in_stock(self.product, 5)
        picking = self.transfer([(self.product, 2)])
        picking.move_ids.quantity = 2
        package = picking.action_put_in_pack()
        self.assertTrue(package)
        picking.button_validate()
        self.assertEqual(picking.state, "done")
        notice = self.env["logistics.message"].search(
            [("res_id", "=", picking.id), ("flow", "=", "ship_notice")]
        )
        self.run_jobs()
        self.assertDone(notice)
        [sent] = self.files("to_partner")
        text = sent.read_text()
        self.assertEqual(validate(text).status, "accepted", validate(text).findings())
        self.assertIn(f"BSN*00*{picking.name}*", text)
        pack_name = picking.move_line_ids.result_package_id.name
        self.assertIn(
            f"HL*3*2*P~\nMAN*GM*{pack_name}~\nHL*4*3*I~\nLIN**SK*WIDGET-1~\nSN1**2*EA~", text
        )
        self.partner.work_once(ship=False)
        self.poll_and_run()
        self.assertTrue(notice.acknowledged)

    def test_a_failing_file_gets_a_rejecting_997_an_exception_and_the_error_folder(self):
        self.partner.inject("bad_count")
        name = self.partner.send_inventory([("WIDGET-1", 10, 8)])
        self.poll_and_run()
        [message] = self.inbound("inventory_snapshot")
        self.assertEqual(message.state, "failed")
        self.assertIn("SE01 says", message.error_message)
        exception = message.exception_ids
        self.assertEqual(exception.exception_type, "validation_error")
        self.assertIn("segments, the set has", exception.description)
        [answer] = [p for p in self.files("to_partner") if p.name.startswith("997_")]
        self.assertIn("AK5*R*4~", answer.read_text())
        self.assertIn("AK9*R*1*1*0~", answer.read_text())
        self.assertTrue((self.root / "error" / name).exists(), "refused file set aside")
        [received] = self.interchanges("inbound")
        self.assertEqual(received.result, "rejected")
        self.assertIn("SE01 says", received.findings)
        self.assertFalse(
            self.env["logistics.inventory.report"].search([("backend_id", "=", self.backend.id)])
        )

    def test_inventory_advice_is_applied_and_a_duplicate_interchange_is_refused(self):
        self.put_in_stock(self.product, 10)
        self.partner.send_inventory([("WIDGET-1", 10, 8)], reference="INV-A")
        self.poll_and_run()
        [first] = self.inbound("inventory_snapshot")
        self.assertDone(first)
        reports = self.env["logistics.inventory.report"].search(
            [("backend_id", "=", self.backend.id)]
        )
        self.assertEqual(len(reports), 1)
        # the partner sends another file under the same interchange control number
        self.partner.inject("duplicate_control")
        self.partner.send_inventory([("WIDGET-1", 4, 4)], reference="INV-B")
        self.poll_and_run()
        second = self.inbound("inventory_snapshot")[1:]
        self.assertEqual(second.state, "failed")
        self.assertIn("refused as a duplicate", second.error_message)
        self.assertIn("ISA13", second.error_message)
        self.assertEqual(
            len(
                self.env["logistics.inventory.report"].search(
                    [("backend_id", "=", self.backend.id)]
                )
            ),
            1,
            "never applied twice",
        )
        answers = [p.read_text() for p in self.files("to_partner") if p.name.startswith("997_")]
        self.assertTrue(any("TA1*" in a and "*R*025~" in a for a in answers), answers)

    def test_a_missing_997_is_overdue(self):
        self.env["logistics.backend.flow"].create(
            {
                "backend_id": self.backend.id,
                "flow": "order_release",
                "direction": "outbound",
                "ack_expected_minutes": 30,
            }
        )
        picking = self.released_delivery([(self.product, 1)])
        [outbound] = self.interchanges("outbound")
        self.assertEqual(outbound.ack_state, "pending")
        self.partner.inject("no_997")
        self.partner.work_once(ship=False)
        self.poll_and_run()
        self.assertFalse(self.inbound("ack"))
        outbound.sudo().ack_due_at = fields.Datetime.now() - timedelta(minutes=1)
        self.assertEqual(outbound.ack_state, "overdue")
        self.assertIn(outbound, outbound.search([("ack_state", "=", "overdue")]))
        release = self.env["logistics.message"].search(
            [("res_id", "=", picking.id), ("flow", "=", "order_release")]
        )
        release.sudo().ack_due_at = fields.Datetime.now() - timedelta(minutes=1)
        self.env["logistics.message"]._cron_ack_overdue()
        self.assertEqual(self.exceptions("ack_overdue").message_id, release)

    def test_a_late_997_settles_the_order_when_it_comes(self):
        picking = self.released_delivery([(self.product, 1)])
        self.partner.inject("late_997", seconds=1)
        self.partner.work_once(ship=False)
        self.poll_and_run()
        self.assertFalse(self.inbound("ack"), "not written yet")
        [outbound] = self.interchanges("outbound")
        self.assertEqual(outbound.ack_state, "pending")
        time.sleep(1.1)
        self.partner.work_once(ship=False)
        self.poll_and_run()
        self.assertDone(self.inbound("ack"))
        self.assertEqual(outbound.ack_state, "accepted")
        release = self.env["logistics.message"].search(
            [("res_id", "=", picking.id), ("flow", "=", "order_release")]
        )
        self.assertTrue(release.acknowledged)

    def test_the_connection_test_logs_in_and_counts_waiting_files(self):
        self.partner.send_inventory([("WIDGET-1", 1, 1)])
        answer = self.backend._get_adapter()._test_connection(self.backend)
        self.assertIn("Logged in to the SFTP server; 1 file(s) wait in", answer)
        self.backend.x12_partner_id = False
        with self.assertRaisesRegex(ConfigurationError, "has no interchange IDs"):
            self.backend._get_adapter()._test_connection(self.backend)

    def test_control_numbers_are_never_reused_even_after_a_rollback(self):
        first = self.backend._x12_next_control_numbers()
        with self.env.cr.savepoint(flush=False) as savepoint:
            second = self.backend._x12_next_control_numbers()
            savepoint.rollback()
        third = self.backend._x12_next_control_numbers()
        for a, b, c in zip(first, second, third, strict=True):
            self.assertLess(a, b)
            self.assertLess(b, c)

    def test_a_retried_send_keeps_its_control_numbers_and_file(self):
        picking = self.released_delivery([(self.product, 2)])
        release = self.env["logistics.message"].search(
            [("res_id", "=", picking.id), ("flow", "=", "order_release")]
        )
        [outbound] = self.interchanges("outbound")
        adapter = self.backend._get_adapter()
        adapter._send(release, resend=True)
        self.assertEqual(self.interchanges("outbound"), outbound)
        self.assertEqual([p.name for p in self.files("to_partner")], [outbound.file_name])

    def test_partner_restrictions_and_missing_ids_are_explained(self):
        self.backend.x12_rules = '{"code_lists": {"W05-01": ["N"]}, "required": ["940:W66"]}'
        picking = self.transfer([(self.product, 1)])
        self.put_in_stock(self.product, 5)
        release = self.release(picking)
        self.run_jobs()
        self.assertEqual(release.state, "failed")
        self.assertIn("segment W66 is mandatory but missing", release.error_message)
        self.assertFalse(self.files("to_partner"), "nothing left with a broken file")

    def test_a_file_still_being_written_waits_for_the_next_poll(self):
        self.backend.sftp_settle_seconds = 1.5
        self.partner.inject("split_write")
        self.partner.send_inventory([("WIDGET-1", 10, 8)])
        counts = self.backend._sftp_poll()
        self.assertEqual((counts["received"], counts["waiting"]), (0, 1))
        self.backend.sftp_settle_seconds = 0
        self.poll_and_run()
        [message] = self.inbound("inventory_snapshot")
        self.assertDone(message)

    def test_wrong_separators_are_refused_with_a_ta1_and_findings(self):
        self.partner.inject("wrong_separator")
        self.partner.send_inventory([("WIDGET-1", 10, 8)])
        self.poll_and_run()
        [message] = self.env["logistics.message"].search(
            [("backend_id", "=", self.backend.id), ("direction", "=", "inbound")]
        )
        self.assertEqual(message.state, "failed")
        self.assertIn("IEA", message.error_message)
        [answer] = [p.read_text() for p in self.files("to_partner")]
        self.assertIn("TA1*", answer)
        self.assertIn("*R*", answer)


@tagged("post_install", "-at_install")
class TestX12ControlNumbersConcurrently(TransactionCase):
    """Two workers with connections of their own draw numbers at the same moment."""

    def test_concurrent_senders_never_get_the_same_numbers(self):
        demo = self.env.ref("logistics_connector_edi.demo_backend_edi")  # committed sequences
        drawn = []
        errors = []

        def draw():
            try:
                with db_connect(self.env.cr.dbname).cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    backend = env["logistics.backend"].browse(demo.id)
                    numbers = [backend._x12_next_control_numbers() for _ in range(25)]
                    cr.rollback()  # a rolled back transaction does not give its numbers back
                    drawn.extend(numbers)
            except Exception as error:  # reported below, with the thread's error
                errors.append(error)

        threads = [threading.Thread(target=draw) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        self.assertFalse(errors)
        self.assertEqual(len(drawn), 50)
        for position in range(3):
            self.assertEqual(len({numbers[position] for numbers in drawn}), 50)
        after = demo._x12_next_control_numbers()
        self.assertGreater(after[0], max(numbers[0] for numbers in drawn))
