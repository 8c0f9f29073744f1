"""A real ShipBob-like 3PL on loopback wired to a 3PL partner record, with Odoo's HTTP server
receiving its signed webhooks and queue_job's real jobs run in the test."""

import base64
import tempfile
from pathlib import Path

from odoo import Command
from odoo.addons.logistics_connector_base.tests.common import (
    PartnerPostsMixin,
    PipelineCaseMixin,
)
from odoo.tests import HttpCase, tagged
from tests.sandboxes.sftp_server import SftpServer
from tests.sandboxes.threepl_extensiv import ExtensivSandbox
from tests.sandboxes.threepl_flatfile import FlatFilePartner
from tests.sandboxes.threepl_partner import ThreePLSandbox

TOKEN = "shipbob-test-pat-5d1e"
SECRET = "whsec_" + base64.b64encode(b"3pl-e2e-tests-signing-secret-001").decode()


@tagged("post_install", "-at_install")
class ThreePLCase(PartnerPostsMixin, PipelineCaseMixin, HttpCase):
    """One sandbox and one ShipBob partner per class, operating the main warehouse."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.env.company.id)], limit=1
        )
        cls.stock = cls.warehouse.lot_stock_id
        cls.customers = cls.env.ref("stock.stock_location_customers")
        cls.backend, cls.sandbox = cls.make_3pl("Sandbox ShipBob", "sbx_shipbob", "10")
        cls.warehouse.logistics_backend_id = cls.backend
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Ada Customer",
                "street": "1 Loop Road",
                "city": "Localhost",
                "zip": "12345",
                "country_id": cls.env.ref("base.be").id,
            }
        )
        cls.widget = cls.product("Widget", "WIDGET-1")
        cls.gadget = cls.product("Gadget", "GADGET-1")

    @classmethod
    def make_3pl(cls, name, code, fulfillment_center):
        sandbox = ThreePLSandbox(token=TOKEN, webhook_secret=SECRET).start()
        cls.addClassCleanup(sandbox.stop)
        backend = cls.env["logistics.backend"].create(
            {
                "name": name,
                "code": code,
                "kind": "3pl",
                "adapter": "shipbob",
                "default_service_level": "Standard",
                "max_attempts": 4,
                "backoff_base": 10,
                "backoff_jitter": 0.0,
                "breaker_threshold": 2,
                "breaker_cooldown": 60,
                "connect_timeout": 2,
                "read_timeout": 5,
                "webhook_secret": SECRET,
                "endpoint_ids": [
                    Command.create(
                        {
                            "environment": "test",
                            "base_url": sandbox.api_url,
                            "auth_kind": "bearer",
                            "token": TOKEN,
                        }
                    )
                ],
                "mapping_ids": [
                    Command.create(
                        {
                            "mapping_type": "warehouse",
                            "odoo_value": cls.env["stock.warehouse"]
                            .search([("company_id", "=", cls.env.company.id)], limit=1)
                            .code,
                            "partner_value": fulfillment_center,
                        }
                    )
                ],
            }
        )
        sandbox.webhook_url = f"{cls.base_url()}/logistics/webhook/{backend.sudo().webhook_token}"
        return backend, sandbox

    @classmethod
    def make_extensiv(cls, name, code, facility, **values):
        """An Extensiv-like sandbox and its polling partner, the main warehouse mapped to
        ``facility``."""
        wms = ExtensivSandbox(token_lifetime=3600).start()
        cls.addClassCleanup(wms.stop)
        backend = cls.env["logistics.backend"].create(
            {
                "name": name,
                "code": code,
                "kind": "3pl",
                "adapter": "extensiv",
                "extensiv_customer_id": 7,
                "default_service_level": "UPS Ground",
                "poll_page_size": 2,
                "backoff_jitter": 0.0,
                "endpoint_ids": [
                    Command.create(
                        {
                            "environment": "test",
                            "base_url": wms.base_url,
                            "auth_kind": "oauth2",
                            "client_id": wms.client_id,
                            "client_secret": wms.client_secret,
                            "extensiv_tpl": wms.tpl,
                            "extensiv_user_login_id": "1",
                        }
                    )
                ],
                "mapping_ids": [cls._warehouse_mapping(str(facility))],
                **values,
            }
        )
        return backend, wms

    @classmethod
    def make_flatfile(cls, name, code, warehouse_code, server_root):
        """A real OpenSSH SFTP server on loopback serving ``server_root`` and a flat-file
        partner logging in to it, the main warehouse mapped to ``warehouse_code``."""
        server = SftpServer(server_root)
        server.start()
        cls.addClassCleanup(server.stop)
        backend = cls.env["logistics.backend"].create(
            {
                "name": name,
                "code": code,
                "kind": "3pl",
                "adapter": "flatfile_sftp",
                "sftp_settle_seconds": 0,
                "endpoint_ids": [
                    Command.create(
                        {
                            "environment": "test",
                            "sftp_host": server.host,
                            "sftp_port": server.port,
                            "sftp_username": server.username,
                            "sftp_private_key": server.client_private_key,
                            "sftp_host_key": server.host_key_line,
                        }
                    )
                ],
                "mapping_ids": [cls._warehouse_mapping(warehouse_code)],
            }
        )
        return backend, server

    @staticmethod
    def fresh_flatfile_partner(backend, server_root):
        """The flat-file 3PL working new folders of the server (nothing left from another
        test), and ``backend`` pointed at them."""
        root = Path(tempfile.mkdtemp(dir=server_root))
        backend.endpoint_ids.write(
            {
                "sftp_outbound_folder": f"{root.name}/inbound",
                "sftp_inbound_folder": f"{root.name}/outbound",
                "sftp_archive_folder": f"{root.name}/archive",
                "sftp_error_folder": f"{root.name}/error",
            }
        )
        return FlatFilePartner(root)

    @classmethod
    def _warehouse_mapping(cls, partner_value):
        warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.env.company.id)], limit=1
        )
        return Command.create(
            {
                "mapping_type": "warehouse",
                "odoo_value": warehouse.code,
                "partner_value": partner_value,
            }
        )

    @classmethod
    def product(cls, name, code, **values):
        return cls.env["product.product"].create(
            {"name": name, "default_code": code, "is_storable": True, **values}
        )

    def setUp(self):
        super().setUp()
        self.sandbox.reset()

    # ---- fixtures --------------------------------------------------------------------------
    def put_in_stock(self, product, quantity, lot_name=None):
        lot = None
        if lot_name:
            lot = self.env["stock.lot"].create(
                {"name": lot_name, "product_id": product.id, "company_id": self.env.company.id}
            )
        self.env["stock.quant"]._update_available_quantity(
            product, self.stock, quantity, lot_id=lot
        )

    def delivery(self, lines, partner=None, ready=True, **values):
        """A delivery order of the 3PL warehouse; made ready (reserved) by default, which
        fires the automated action that releases it."""
        picking_type = self.warehouse.out_type_id
        picking = self.env["stock.picking"].create(
            {
                "picking_type_id": picking_type.id,
                "partner_id": (partner or self.customer).id,
                "location_id": self.stock.id,
                "location_dest_id": self.customers.id,
                "move_ids": [
                    Command.create(
                        {
                            "name": product.name,
                            "product_id": product.id,
                            "product_uom_qty": quantity,
                            "product_uom": product.uom_id.id,
                            "location_id": self.stock.id,
                            "location_dest_id": self.customers.id,
                        }
                    )
                    for product, quantity in lines
                ],
                **values,
            }
        )
        if ready:
            for product, quantity in lines:
                if product.tracking == "none":
                    self.put_in_stock(product, quantity)
            picking.action_confirm()
            picking.action_assign()
        return picking

    def incoming(self, lines, origin="P00042", confirm=True):
        """A receipt of the 3PL warehouse from a vendor, confirmed (unless ``confirm`` is
        false): the automated action announces it (it runs on the computed state, here when
        flushed)."""
        suppliers = self.env.ref("stock.stock_location_suppliers")
        receipt = self.env["stock.picking"].create(
            {
                "picking_type_id": self.warehouse.in_type_id.id,
                "partner_id": self.env["res.partner"].create({"name": "Vendor"}).id,
                "location_id": suppliers.id,
                "location_dest_id": self.stock.id,
                "origin": origin,
                "move_ids": [
                    Command.create(
                        {
                            "name": product.name,
                            "product_id": product.id,
                            "product_uom_qty": quantity,
                            "product_uom": product.uom_id.id,
                            "location_id": suppliers.id,
                            "location_dest_id": self.stock.id,
                        }
                    )
                    for product, quantity in lines
                ],
            }
        )
        if confirm:
            receipt.action_confirm()
            self.env.flush_all()
            self.run_jobs()
        return receipt

    def released(self, lines, **kwargs):
        picking = self.delivery(lines, **kwargs)
        self.assertEqual(picking.state, "assigned")
        self.run_jobs()
        self.assertEqual(
            picking.logistics_status, "acknowledged", self.messages(picking).mapped("error_message")
        )
        return picking

    def messages(self, record, flow=None, direction=None):
        domain = [("res_model", "=", record._name), ("res_id", "=", record.id)]
        if flow:
            domain.append(("flow", "=", flow))
        if direction:
            domain.append(("direction", "=", direction))
        return self.env["logistics.message"].search(domain, order="id")

    @staticmethod
    def shipped_lines(picking):
        """What a transfer was done with: (product code, lot or serial, quantity), sorted."""
        return sorted(
            picking.move_line_ids.mapped(
                lambda ml: (ml.product_id.default_code, ml.lot_id.name, ml.quantity)
            )
        )

    def inbound(self, backend=None):
        return self.env["logistics.message"].search(
            [("backend_id", "=", (backend or self.backend).id), ("direction", "=", "inbound")],
            order="id",
        )

    def exceptions(self, record=None, exception_type=None):
        domain = [("backend_id", "=", self.backend.id)]
        if record:
            domain += [("res_model", "=", record._name), ("res_id", "=", record.id)]
        if exception_type:
            domain.append(("exception_type", "=", exception_type))
        return self.env["logistics.exception"].search(domain)

    def deliveries_ok(self, deliveries):
        """Every webhook the sandbox sent was accepted by Odoo (202 new, 200 repeated)."""
        self.assertTrue(deliveries)
        for status, text in deliveries:
            self.assertIn(status, (200, 202), text)
        self.env.invalidate_all()
