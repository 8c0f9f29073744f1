"""The demo partners of the run command, as the demo database has them: the Extensiv-like
sandbox and the flat-file 3PL working the SFTP demo server (connected by the same hook
scripts/run calls with the server's new keys) ship a delivery of their demo warehouse."""

import json
import os
import tempfile
import time
from pathlib import Path

from odoo import Command
from odoo.addons.logistics_connector_base.tests.common import PipelineCaseMixin
from odoo.tests import TransactionCase, tagged
from tests.sandboxes.sftp_server import SftpServer
from tests.sandboxes.threepl_extensiv import start_demo as start_extensiv_demo
from tests.sandboxes.threepl_flatfile import FlatFilePartner


@tagged("post_install", "-at_install")
class TestDemoPartners(PipelineCaseMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.env.ref("base.res_partner_2")
        cls.chair = cls.env.ref("product.product_delivery_01")

    def ship_from(self, warehouse):
        """A delivery of the demo warehouse, made ready: the automated action releases it."""
        customers = self.env.ref("stock.stock_location_customers")
        # The demo data stocks it at install; a database updated since may not have it.
        self.env["stock.quant"]._update_available_quantity(self.chair, warehouse.lot_stock_id, 2)
        picking = self.env["stock.picking"].create(
            {
                "picking_type_id": warehouse.out_type_id.id,
                "partner_id": self.customer.id,
                "location_id": warehouse.lot_stock_id.id,
                "location_dest_id": customers.id,
                "move_ids": [
                    Command.create(
                        {
                            "name": self.chair.name,
                            "product_id": self.chair.id,
                            "product_uom_qty": 2,
                            "product_uom": self.chair.uom_id.id,
                            "location_id": warehouse.lot_stock_id.id,
                            "location_dest_id": customers.id,
                        }
                    )
                ],
            }
        )
        picking.action_confirm()
        picking.action_assign()
        self.assertEqual(picking.state, "assigned")
        self.run_jobs()
        self.assertEqual(picking.logistics_status, "acknowledged")
        return picking

    def test_the_flatfile_demo_partner_is_connected_and_ships(self):
        root = Path(tempfile.mkdtemp(prefix="lc-3pl-demo-"))
        server = SftpServer(root)
        server.start()
        self.addCleanup(server.stop)
        key = root.parent / f"{root.name}-client_key"
        key.write_text(server.client_private_key)
        self.addCleanup(key.unlink)
        connection = root.parent / f"{root.name}-connection.json"
        connection.write_text(
            json.dumps(
                {
                    "host": server.host,
                    "port": server.port,
                    "username": server.username,
                    "host_key": server.host_key_line,
                    "client_key": str(key),
                }
            )
        )
        self.addCleanup(connection.unlink)
        self.env["logistics.backend"]._demo_connect_sandboxes(str(connection))
        self.backend = self.env.ref("logistics_connector_3pl.demo_backend_flatfile")
        self.backend.sftp_settle_seconds = 0
        endpoint = self.backend.endpoint_ids
        self.assertEqual(
            (endpoint.sftp_port, endpoint.sftp_host_key), (server.port, server.host_key_line)
        )
        files = self.env.ref("logistics_connector_3pl.demo_backend_flatfile_flow_files")
        self.assertEqual(files.mode, "batch", "fetched every minute once connected")

        partner = FlatFilePartner(root / "3pl")
        picking = self.ship_from(self.env.ref("logistics_connector_3pl.demo_warehouse_flatfile"))
        [answer] = partner.work_once()
        self.assertTrue(answer.startswith("shp_"))
        self.backend._sftp_poll()
        self.run_jobs()
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.logistics_status, "shipped")
        self.assertTrue(picking.carrier_tracking_ref.startswith("1ZFLAT"))

        # A receipt of the demo warehouse: the notice goes out, the partner receives it all.
        warehouse = self.env.ref("logistics_connector_3pl.demo_warehouse_flatfile")
        suppliers = self.env.ref("stock.stock_location_suppliers")
        receipt = self.env["stock.picking"].create(
            {
                "picking_type_id": warehouse.in_type_id.id,
                "partner_id": self.customer.id,
                "location_id": suppliers.id,
                "location_dest_id": warehouse.lot_stock_id.id,
                "move_ids": [
                    Command.create(
                        {
                            "name": self.chair.name,
                            "product_id": self.chair.id,
                            "product_uom_qty": 6,
                            "product_uom": self.chair.uom_id.id,
                            "location_id": suppliers.id,
                            "location_dest_id": warehouse.lot_stock_id.id,
                        }
                    )
                ],
            }
        )
        receipt.action_confirm()
        self.env.flush_all()
        self.run_jobs()
        [answer] = partner.work_once()
        self.assertTrue(answer.startswith("rcv_"))
        self.backend._sftp_poll()
        self.run_jobs()
        self.assertEqual(receipt.state, "done")
        self.assertEqual(receipt.move_ids.quantity, 6)

    def test_the_extensiv_demo_partner_ships_by_itself_and_is_polled(self):
        wms = start_extensiv_demo(port=0, delay=0)
        self.addCleanup(wms.stop)
        self.backend = self.env.ref("logistics_connector_3pl.demo_backend_extensiv")
        self.backend.endpoint_ids.base_url = wms.base_url  # the demo's 8705 may be taken
        picking = self.ship_from(self.env.ref("logistics_connector_3pl.demo_warehouse_extensiv"))
        deadline = time.monotonic() + 5
        while not wms.order(picking.name)["readOnly"]["isClosed"]:
            self.assertLess(time.monotonic(), deadline, "the autopilot never shipped it")
            time.sleep(0.05)
        self.env["logistics.backend"]._cron_logistics_poll_partners()
        self.run_jobs()
        inbound = self.env["logistics.message"].search(
            [("backend_id", "=", self.backend.id), ("direction", "=", "inbound")]
        )
        self.assertEqual(picking.state, "done", inbound.mapped("error_message"))
        self.assertEqual(picking.logistics_status, "shipped")
        self.assertEqual(wms.stock[3, "FURN_7777", "", ""], 28)

    def test_the_demo_rest_partners_follow_the_ports_of_the_run_command(self):
        ports = {
            "LC_SANDBOX_3PL_PORT": "18702",
            "LC_SANDBOX_EXTENSIV_PORT": "",
            "LC_SANDBOX_HTTP_PORT": "18701",
        }
        for variable, port in ports.items():
            self.addCleanup(os.environ.__setitem__, variable, os.environ.get(variable, ""))
            os.environ[variable] = port
        self.env["logistics.backend"]._demo_follow_sandbox_ports()
        urls = {
            xmlid: self.env.ref(xmlid).base_url
            for xmlid in (
                "logistics_connector_3pl.demo_backend_shipbob_endpoint_test",
                "logistics_connector_3pl.demo_backend_extensiv_endpoint_test",
                "logistics_connector_base.demo_backend_3pl_endpoint_test",
            )
        }
        self.assertEqual(
            list(urls.values()),
            [
                "http://127.0.0.1:18702/2026-07",
                "http://127.0.0.1:8705",  # no setting: the default
                "http://127.0.0.1:18701",
            ],
        )
