"""The flat-file partner, the cases test_flatfile.py leaves out: lots and serial numbers in
shipment and receipt files; a cancellation or a quantity change decided in Odoo; the "cancel
the rest" and "exception for every difference" policies; the same shipment again under another
file name, the files of one order read in the wrong order; a server failure and a server down
while files wait; a worker dying half-way through a file of several orders or after an upload;
a bad line half-way through a file."""

from datetime import timedelta

from odoo import fields
from tests.sandboxes.loopback import free_port

from .test_flatfile import FlatFileCase


class TestFlatFileChanges(FlatFileCase):
    def released_and_taken(self, lines):
        picking = self.delivery(lines)
        self.run_jobs()
        self.assertEqual(picking.logistics_status, "acknowledged")
        self.partner.take_orders()
        return picking

    def test_lots_and_serial_numbers_of_the_file_are_applied(self):
        phone = self.product("Phone", "PHONE-FF", tracking="serial")
        paint = self.product("Paint", "PAINT-FF", tracking="lot")
        for serial in ("SN-1", "SN-2", "SN-3"):
            self.put_in_stock(phone, 1, serial)
        self.put_in_stock(paint, 2, "L-OLD")
        self.put_in_stock(paint, 2, "L-NEW")
        picking = self.released_and_taken([(phone, 2), (paint, 4)])
        self.partner.ship(
            picking.name,
            serials={"PHONE-FF": ["SN-3", "SN-1"]},
            lots={"PAINT-FF": [("L-OLD", 1), ("L-NEW", 2), ("L-OLD", 1)]},
        )
        self.assertEqual(self.poll()["received"], 1)
        [shipment] = self.inbound()
        self.assertEqual(shipment.state, "done", shipment.error_message)
        self.assertEqual(picking.state, "done")
        self.assertEqual(
            self.shipped_lines(picking),
            [
                ("PAINT-FF", "L-NEW", 2),
                ("PAINT-FF", "L-OLD", 2),
                ("PHONE-FF", "SN-1", 1),
                ("PHONE-FF", "SN-3", 1),
            ],
            "the lots and serials the warehouse shipped, not those Odoo reserved",
        )
        self.assertFalse(picking.backorder_ids)

    def test_a_cancellation_after_the_file_went_out_asks_a_person_before_it_is_withdrawn(self):
        not_sent = self.delivery([(self.widget, 1)])
        [release] = self.messages(not_sent)
        not_sent.action_cancel()
        self.assertEqual(release.state, "cancelled")
        sent = self.released_and_taken([(self.widget, 2)])
        sent.action_cancel()
        self.run_jobs()
        self.assertEqual(self.partner.take_orders(), [], "no order file for either")
        self.assertEqual(list(self.partner.orders), [sent.name])
        cancel = self.messages(sent).filtered(
            lambda m: m.canonical_payload.get("action") == "cancel"
        )
        self.assertEqual(cancel.state, "failed")
        [exception] = cancel.exception_ids
        self.assertIn("tell the warehouse about changes and cancellations", exception.description)
        self.assertEqual(not_sent.logistics_status, "cancelled")
        self.assertFalse(self.exceptions(not_sent))

    def test_the_same_shipment_again_under_another_file_name_changes_nothing(self):
        picking = self.released_and_taken([(self.widget, 3)])
        name = self.partner.ship(picking.name, {"WIDGET-1": 2})
        self.poll()
        self.assertEqual(picking.state, "done", self.inbound().mapped("error_message"))
        backorder = picking.backorder_ids
        # The 3PL's system sends the same confirmation again, in a new file.
        archived = self.partner.root / "archive" / name
        (self.partner.outbound / f"shp_resent_{name}").write_bytes(archived.read_bytes())
        self.assertEqual(self.poll()["received"], 1, "another file: stored")
        self.assertEqual(set(self.inbound().mapped("state")), {"done"})
        self.assertEqual(picking.move_ids.quantity, 2)
        self.assertEqual(backorder.state, "assigned", "the rest is still expected")
        self.assertEqual(backorder.move_ids.product_uom_qty, 1)
        self.assertFalse(self.exceptions())

    def test_the_files_of_one_order_read_in_reverse_order_ship_it_once(self):
        picking = self.released_and_taken([(self.widget, 3), (self.gadget, 1)])
        first = self.partner.ship(picking.name, {"WIDGET-1": 1})
        held_back = self.partner.root / first
        (self.partner.outbound / first).rename(held_back)  # reaches the folder late
        self.partner.ship(picking.name, {"WIDGET-1": 2, "GADGET-1": 1})
        self.poll()
        self.assertEqual(picking.state, "done", self.inbound().mapped("error_message"))
        backorder = picking.backorder_ids
        self.assertEqual(backorder.move_ids.product_uom_qty, 1)
        held_back.rename(self.partner.outbound / first)
        self.poll()
        self.assertEqual(set(self.inbound().mapped("state")), {"done"})
        self.assertEqual(backorder.state, "done")
        family = picking | backorder
        self.assertEqual(
            sorted(family.move_ids.mapped(lambda m: (m.product_id.default_code, m.quantity))),
            [("GADGET-1", 1), ("WIDGET-1", 1), ("WIDGET-1", 2)],
        )
        self.assertEqual(family.mapped("logistics_status"), ["shipped", "shipped"])
        self.assertFalse(self.exceptions())

    def test_a_worker_dying_half_way_through_a_file_applies_it_once_after_restart(self):
        first = self.released_and_taken([(self.widget, 2)])
        second = self.released_and_taken([(self.gadget, 1)])
        name = self.partner.ship_orders([first.name, second.name])
        self.assertEqual(self.backend._sftp_poll()["received"], 1)
        [message] = self.inbound()
        self.assertEqual(message.state, "queued")
        documents = self.backend._get_adapter()._decode(message)
        self.assertEqual(
            [d["order_reference"] for d in documents], [first.name, second.name], "one file"
        )

        # The worker takes the job and records its attempt (committed before any work), then
        # applies the first shipment of the file and dies: its transaction is lost.
        message._record_attempt_start()
        self.env.flush_all()
        with self.assertRaises(InterruptedError), self.env.cr.savepoint():
            self.env["logistics.applier"]._apply(message, documents[0])
            self.env.flush_all()
            self.assertEqual(first.state, "done", "half-way: the first order was applied")
            raise InterruptedError("worker killed")
        self.env.invalidate_all()
        self.assertEqual((first.state, second.state), ("assigned", "assigned"))
        self.env.cr.execute(
            "UPDATE queue_job SET state = 'started', date_started = %s WHERE uuid = %s",
            (fields.Datetime.now() - timedelta(hours=1), message.job_uuid),
        )
        self.env.cr.execute(
            "UPDATE logistics_message SET state = 'in_progress', write_date = %s WHERE id = %s",
            (fields.Datetime.now() - timedelta(hours=1), message.id),
        )
        self.env.invalidate_all()

        # Restart: the stuck message is found and its file applied, whole and once.
        self.assertIn(message, self.env["logistics.message"]._cron_recover_stuck())
        self.run_jobs()
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual((first.state, second.state), ("done", "done"))
        self.assertEqual((first.move_ids.quantity, second.move_ids.quantity), (2, 1))
        self.assertFalse(first.backorder_ids | second.backorder_ids)
        # And the file, were it still on the server, is not taken again.
        archived = self.partner.root / "archive" / name
        archived.rename(self.partner.outbound / name)
        self.assertEqual(self.poll()["already_received"], 1)
        self.assertEqual(len(self.inbound()), 1)
        self.assertFalse(self.exceptions())

    def test_a_server_failure_is_retried_and_the_order_file_goes_out_once(self):
        picking = self.delivery([(self.widget, 1)])
        [release] = self.messages(picking)
        adapter = self.backend._get_adapter()
        name = adapter._file_name(release, adapter._layout(self.backend, "order_release"))
        # A directory where the upload's temporary file goes: OpenSSH answers a plain
        # "Failure" (SSH_FX_FAILURE), what a full disk or a server-side fault looks like.
        blocker = self.partner.inbound / f".{name}.part"
        blocker.mkdir()
        self.run_jobs()
        self.assertEqual(release.state, "retry", release.error_message)
        self.assertIn("Cannot upload", release.error_message)
        self.assertEqual(self.partner.take_orders(), [])
        blocker.rmdir()
        self.run_jobs(ignore_eta=True)
        self.assertEqual(release.state, "done", release.error_message)
        self.assertEqual(release.attempts, 2)
        self.assertEqual(self.partner.take_orders(), [name], "one complete file")
        self.assertEqual(picking.logistics_status, "acknowledged")

    def test_files_waiting_while_the_server_is_down_are_fetched_once_when_it_is_back(self):
        picking = self.released_and_taken([(self.widget, 2)])
        self.partner.ship(picking.name)
        flow = self.env["logistics.backend.flow"].create(
            {
                "backend_id": self.backend.id,
                "flow": "shipment",
                "direction": "inbound",
                "mode": "batch",
            }
        )
        endpoint = self.backend.endpoint_ids
        endpoint.sftp_port = free_port()  # nobody listens there: the server is down
        self.assertIsNone(flow._poll_files())
        [down] = self.exceptions(exception_type="partner_down")
        self.assertIn("the files stay on the server", down.description)
        self.assertFalse(self.inbound())
        endpoint.sftp_port = self.server.port
        self.assertEqual(flow._poll_files()["received"], 1)
        self.assertEqual(flow._poll_files()["received"], 0, "archived: taken once")
        self.run_jobs()
        self.assertEqual(picking.state, "done", self.inbound().mapped("error_message"))
        self.assertEqual(len(self.inbound()), 1)

    def test_a_bad_line_half_way_through_a_file_fails_it_whole_and_the_fix_applies_once(self):
        first = self.released_and_taken([(self.widget, 2)])
        second = self.released_and_taken([(self.gadget, 1)])
        line = self.partner.orders[second.name]["lines"][0]
        good_sku, line["sku"], line["line_ref"] = line["sku"], "GADGET-9", ""  # a typo
        self.partner.ship_orders([first.name, second.name])
        self.poll()
        [message] = self.inbound()
        self.assertEqual(message.state, "failed")
        self.assertIn("GADGET-9", message.error_message)
        self.assertEqual((first.state, second.state), ("assigned", "assigned"), "none applied")
        self.assertTrue(message.exception_ids)
        # The 3PL sends the corrected file; the failed one is left for a person to close.
        line["sku"] = good_sku
        self.partner.ship_orders([first.name, second.name])
        self.poll()
        self.assertEqual(self.inbound()[1:].state, "done", self.inbound().mapped("error_message"))
        self.assertEqual((first.state, second.state), ("done", "done"))
        self.assertEqual((first.move_ids.quantity, second.move_ids.quantity), (2, 1))
        # Retried as it is, the failed file fails again, in the same plain words.
        message.action_retry()
        self.run_jobs()
        self.assertEqual(message.state, "failed")
        self.assertIn("add a Product mapping from 'GADGET-9'", message.error_message)
        # Mapped and retried: it goes through, and ships nothing twice.
        self.env["logistics.mapping"].create(
            {
                "backend_id": self.backend.id,
                "mapping_type": "product",
                "odoo_value": good_sku,
                "partner_value": "GADGET-9",
            }
        )
        message.action_retry()
        self.run_jobs()
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual((first.move_ids.quantity, second.move_ids.quantity), (2, 1))
        self.assertFalse(first.backorder_ids | second.backorder_ids)
        self.assertEqual(set(message.exception_ids.mapped("state")), {"resolved"})

    def test_a_receipt_file_with_lots_books_each_lot(self):
        paint = self.product("Paint", "PAINT-FF-IN", tracking="lot")
        receipt = self.incoming([(paint, 5), (self.widget, 2)])
        [notice] = self.messages(receipt)
        self.assertEqual(notice.state, "done", notice.error_message)
        self.assertEqual(self.partner.take_orders("asn_"), [notice.external_id])
        self.partner.receive(receipt.name, {"PAINT-FF-IN": (5, 0, "LOT-R1")})
        self.poll()
        self.assertEqual(receipt.state, "done", self.inbound().mapped("error_message"))
        self.assertEqual(
            sorted(
                receipt.move_line_ids.mapped(
                    lambda ml: (ml.product_id.default_code, ml.lot_id.name or "", ml.quantity)
                )
            ),
            [("PAINT-FF-IN", "LOT-R1", 5), ("WIDGET-1", "", 2)],
        )
        self.assertEqual(
            paint.with_context(
                location=self.stock.id, lot_id=receipt.move_line_ids.lot_id.id
            ).qty_available,
            5,
        )

    def test_a_short_shipment_file_cancels_the_rest_when_the_partner_never_ships_it(self):
        self.backend.partial_shipment_policy = "cancel"
        picking = self.released_and_taken([(self.widget, 4), (self.gadget, 1)])
        self.partner.ship(picking.name, {"WIDGET-1": 3}, status="complete")  # closed short
        self.poll()
        self.assertEqual(picking.state, "done", self.inbound().mapped("error_message"))
        self.assertEqual(
            sorted(picking.move_ids.mapped(lambda m: (m.product_id.default_code, m.quantity))),
            [("GADGET-1", 0), ("WIDGET-1", 3)],
        )
        self.assertFalse(picking.backorder_ids, "nothing more is expected")
        [short] = self.exceptions(picking, "partial_shipment")
        self.assertIn("The rest was cancelled (partner setting)", short.description)
        self.assertIn("GADGET-1", short.description)

    def test_inventory_file_with_the_exception_policy_adjusts_nothing(self):
        self.backend.inventory_policy = "exception"
        self.put_in_stock(self.widget, 4)
        self.partner.inventory("LEG-1", {"WIDGET-1": 5})
        self.poll()
        [message] = self.inbound()
        self.assertEqual(message.state, "done", message.error_message)
        report = self.env["logistics.inventory.report"].browse(message.res_id)
        line = report.line_ids.filtered(lambda line: line.product_id == self.widget)
        self.assertEqual((line.difference, line.status), (1, "exception"))
        self.assertEqual(self.widget.with_context(location=self.stock.id).qty_available, 4)
        self.assertIn(
            "WIDGET-1: 4 / 5", self.exceptions(exception_type="inventory_mismatch").description
        )

    def test_a_quantity_change_after_the_file_went_out_asks_a_person(self):
        picking = self.released_and_taken([(self.widget, 2)])
        self.put_in_stock(self.widget, 3)
        picking.move_ids.product_uom_qty = 3
        self.run_jobs()
        update = self.messages(picking).filtered(
            lambda m: m.canonical_payload.get("action") == "update"
        )
        self.assertEqual(update.state, "failed")
        self.assertIn("tell the warehouse about changes", update.exception_ids.description)
        self.assertEqual(self.partner.take_orders(), [], "no second order file")

    def test_a_worker_dying_after_the_upload_sends_the_same_file_again_not_another_order(self):
        picking = self.delivery([(self.widget, 1)])
        [release] = self.messages(picking)
        adapter = self.backend._get_adapter()
        # The worker records its attempt, uploads the file, and dies before committing.
        release._record_attempt_start()
        self.env.flush_all()
        with self.assertRaises(InterruptedError), self.env.cr.savepoint():
            adapter._send(release)
            raise InterruptedError("worker killed")
        self.env.invalidate_all()
        [name] = self.partner.take_orders()  # the partner took it in the meantime
        self.env.cr.execute(
            "UPDATE queue_job SET state = 'started', date_started = %s WHERE uuid = %s",
            (fields.Datetime.now() - timedelta(hours=1), release.job_uuid),
        )
        self.env.cr.execute(
            "UPDATE logistics_message SET state = 'in_progress', write_date = %s WHERE id = %s",
            (fields.Datetime.now() - timedelta(hours=1), release.id),
        )
        self.env.invalidate_all()
        self.assertIn(release, self.env["logistics.message"]._cron_recover_stuck())
        self.run_jobs()
        self.assertEqual(release.state, "done", release.error_message)
        self.assertEqual(release.external_id, name)
        # Odoo cannot know the partner took it: the same file, under the same name, again,
        # which the partner recognises.
        self.assertEqual(self.partner.take_orders(), [name])
        self.assertEqual(self.partner.duplicates, [(name, picking.name)])
        self.assertEqual(len(self.partner.orders[picking.name]["lines"]), 1)
