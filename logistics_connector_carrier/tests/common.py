"""Shared fixtures of the carrier tests: the EasyPost-like sandbox on loopback, a carrier
account, a shipping method, and deliveries with stock to validate."""

from odoo.addons.logistics_connector_base.tests.common import (
    PartnerPostsMixin,
    PipelineCaseMixin,
)
from odoo.tests import HttpCase, TransactionCase
from odoo.tools import config
from tests.sandboxes.carrier_partner import CarrierSandbox

API_KEY = "EZTK_carrier_tests_key"
PROD_KEY = "EZAK_carrier_tests_prod_key"
WEBHOOK_SECRET = "carrier-tests-webhook-secret"
WEBHOOK_TOKEN = "carrier-tests-webhook"


class CarrierCase(PipelineCaseMixin, TransactionCase):
    """One sandbox per class (reset before each test), a carrier account on it and a shipping
    method "USPS Priority" with a 10 % margin."""

    sandbox_webhooks = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox = CarrierSandbox(
            api_keys={API_KEY: "test", PROD_KEY: "production"},
            webhook_url=cls._webhook_url() if cls.sandbox_webhooks else None,
            webhook_secret=WEBHOOK_SECRET,
        )
        cls.sandbox.start()
        cls.addClassCleanup(cls.sandbox.stop)
        cls.backend = cls.env["logistics.backend"].create(
            {
                "name": "Sandbox Carrier",
                "code": "sandbox_carrier",
                "kind": "carrier",
                "adapter": "easypost",
                "max_attempts": 4,
                "backoff_base": 10,
                "backoff_jitter": 0.0,
                "breaker_threshold": 3,
                "breaker_cooldown": 60,
                "connect_timeout": 2,
                "read_timeout": 3,
                "sync_deadline": 3,
                "webhook_secret": WEBHOOK_SECRET,
                "webhook_token": WEBHOOK_TOKEN,
                "endpoint_ids": [
                    (
                        0,
                        0,
                        {
                            "environment": "test",
                            "base_url": cls.sandbox.base_url,
                            "auth_kind": "basic",
                            "username": API_KEY,
                        },
                    ),
                ],
            }
        )
        cls.company = cls.env.company
        cls.company.partner_id.write(
            {
                "street": "500 Warehouse Way",
                "city": "Memphis",
                "zip": "38118",
                "country_id": cls.env.ref("base.us").id,
            }
        )
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.company.id)], limit=1
        )
        cls.warehouse.partner_id = cls.company.partner_id
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Ada Customer",
                "email": "ada@example.com",
                "street": "1 Loop Road",
                "city": "Springfield",
                "zip": "12345",
                "country_id": cls.env.ref("base.us").id,
            }
        )
        cls.product = cls.env["product.product"].create(
            {
                "name": "Widget",
                "default_code": "WIDGET-1",
                "is_storable": True,
                "weight": 1.0,
                "list_price": 20.0,
            }
        )
        cls.env["stock.quant"]._update_available_quantity(
            cls.product, cls.warehouse.lot_stock_id, 1000
        )
        delivery_product = cls.env["product.product"].create(
            {"name": "Sandbox shipping", "type": "service", "sale_ok": False}
        )
        cls.carrier = cls.env["delivery.carrier"].create(
            {
                "name": "Sandbox USPS Priority",
                "delivery_type": "logistics",
                "product_id": delivery_product.id,
                "logistics_backend_id": cls.backend.id,
                "logistics_carrier_code": "USPS",
                "logistics_service": "Priority",
                "margin": 0.1,
            }
        )

    @classmethod
    def _webhook_url(cls):
        return f"http://127.0.0.1:{config['http_port']}/logistics/webhook/{WEBHOOK_TOKEN}"

    def setUp(self):
        super().setUp()
        self.sandbox.reset()

    def make_picking(self, quantity=2.0, carrier=None, packages=None):
        """A confirmed delivery with its quantities picked; ``packages``: quantities put in
        one pack each."""
        picking_type = self.warehouse.out_type_id
        picking = self.env["stock.picking"].create(
            {
                "picking_type_id": picking_type.id,
                "partner_id": self.customer.id,
                "carrier_id": (carrier or self.carrier).id,
                "location_id": picking_type.default_location_src_id.id,
                "location_dest_id": self.env.ref("stock.stock_location_customers").id,
                "move_ids": [
                    (
                        0,
                        0,
                        {
                            "name": self.product.name,
                            "product_id": self.product.id,
                            "product_uom_qty": quantity,
                            "product_uom": self.product.uom_id.id,
                            "location_id": picking_type.default_location_src_id.id,
                            "location_dest_id": self.env.ref("stock.stock_location_customers").id,
                        },
                    )
                ],
            }
        )
        picking.action_confirm()
        picking.action_assign()
        if packages:
            move = picking.move_ids
            move.move_line_ids.unlink()
            for package_quantity in packages:
                line = self.env["stock.move.line"].create(
                    {
                        "move_id": move.id,
                        "picking_id": picking.id,
                        "product_id": self.product.id,
                        "product_uom_id": self.product.uom_id.id,
                        "quantity": package_quantity,
                        "location_id": move.location_id.id,
                        "location_dest_id": move.location_dest_id.id,
                    }
                )
                line.result_package_id = self.env["stock.quant.package"].create({})
        else:
            picking.move_ids.quantity = quantity
        picking.move_ids.picked = True
        return picking

    def validate(self, picking):
        result = picking.button_validate()
        self.assertTrue(result is True or result is None, f"validated at once, got {result}")
        self.assertEqual(picking.state, "done")
        return picking

    def carrier_posts(self, path_end=""):
        return [
            r
            for r in self.sandbox.requests
            if r["method"] == "POST"
            and r["path"].startswith("/v2/shipments")
            and r["path"].endswith(path_end)
        ]

    def open_exceptions(self, picking):
        return self.env["logistics.exception"].search(
            [("res_model", "=", "stock.picking"), ("res_id", "=", picking.id),
             ("state", "in", ("new", "in_progress"))]
        )  # fmt: skip


class CarrierHttpCase(PartnerPostsMixin, CarrierCase, HttpCase):
    """The sandbox posts its signed events to this test's Odoo server."""

    sandbox_webhooks = True
