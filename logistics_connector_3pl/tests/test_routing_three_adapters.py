"""Routing between 3PLs of different kinds: the warehouse's ShipBob-like partner by default,
an Extensiv-like partner for one country and a flat-file partner for one product category.
Each delivery reaches only the 3PL its rule chose (its sandbox, or the SFTP server) and comes
back shipped from there."""

import tempfile
from pathlib import Path

from odoo import Command

from .common import ThreePLCase


class TestRoutingAcrossAdapters(ThreePLCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.extensiv, cls.wms = cls.make_extensiv("Polling 3PL", "sbx_route_ext", 3)
        cls.server_root = Path(tempfile.mkdtemp(prefix="lc-3pl-route-"))
        cls.flat, cls.server = cls.make_flatfile(
            "File 3PL", "sbx_route_flat", "LEG-9", cls.server_root
        )
        cls.bulky = cls.env["product.category"].create({"name": "Bulky"})
        cls.pallet = cls.product("Pallet", "PALLET-1", categ_id=cls.bulky.id)
        cls.canada = cls.env.ref("base.ca")
        rules = cls.env["logistics.routing.rule"]
        rules.create(
            {
                "name": "Canada goes to the polling 3PL",
                "sequence": 10,
                "backend_id": cls.extensiv.id,
                "country_ids": [Command.set(cls.canada.ids)],
            }
        )
        rules.create(
            {
                "name": "Bulky goods go to the file 3PL",
                "sequence": 20,
                "backend_id": cls.flat.id,
                "product_category_ids": [Command.set(cls.bulky.ids)],
            }
        )

    def setUp(self):
        super().setUp()
        self.wms.reset()
        self.partner = self.fresh_flatfile_partner(self.flat, self.server_root)

    def run_jobs_of(self, backend):
        self.backend, main = backend, self.backend
        try:
            return self.run_jobs()
        finally:
            self.backend = main

    def test_each_delivery_goes_to_the_3pl_its_rule_chose_and_comes_back_from_it(self):
        toronto = self.env["res.partner"].create(
            {
                "name": "Bob",
                "street": "2 Main St",
                "city": "Toronto",
                "zip": "M5V 2T6",
                "country_id": self.canada.id,
                "state_id": self.env.ref("base.state_ca_on").id,
            }
        )
        to_canada = self.delivery([(self.widget, 1)], partner=toronto)
        bulky = self.delivery([(self.pallet, 2)])
        # Both rules match: the first by sequence wins.
        bulky_to_canada = self.delivery([(self.pallet, 1)], partner=toronto)
        by_default = self.delivery([(self.gadget, 1)])
        self.assertEqual(
            [p.logistics_backend_id for p in (to_canada, bulky, bulky_to_canada, by_default)],
            [self.extensiv, self.flat, self.extensiv, self.backend],
        )
        for backend in (self.backend, self.extensiv, self.flat):
            self.run_jobs_of(backend)
        self.assertEqual(
            sorted(o["referenceNum"] for o in self.wms.orders.values()),
            sorted([to_canada.name, bulky_to_canada.name]),
        )
        self.assertEqual(len(self.partner.take_orders()), 1)
        self.assertEqual(list(self.partner.orders), [bulky.name])
        self.assertEqual(
            [o["reference_id"] for o in self.sandbox.orders.values()], [by_default.name]
        )

        # Each comes back from its own 3PL, through that 3PL's way in.
        self.wms.ship(to_canada.name)
        self.wms.ship(bulky_to_canada.name)
        self.extensiv._get_adapter()._poll(self.extensiv)
        self.run_jobs_of(self.extensiv)
        self.partner.ship(bulky.name)
        self.flat._sftp_poll()
        self.run_jobs_of(self.flat)
        self.deliveries_ok(self.sandbox.ship(by_default.name))
        self.run_jobs()
        for picking in (to_canada, bulky, bulky_to_canada, by_default):
            self.assertEqual(
                (picking.state, picking.logistics_status), ("done", "shipped"), picking.name
            )
        shipments = self.env["logistics.message"].search(
            [("flow", "=", "shipment"), ("direction", "=", "inbound")]
        )
        self.assertEqual(
            sorted((m.backend_id.code, m.res_id) for m in shipments if m.res_id),
            sorted(
                [
                    ("sbx_route_ext", to_canada.id),
                    ("sbx_route_ext", bulky_to_canada.id),
                    ("sbx_route_flat", bulky.id),
                    ("sbx_shipbob", by_default.id),
                ]
            ),
        )

    def test_the_rest_of_a_routed_delivery_stays_with_its_3pl(self):
        bulky = self.delivery([(self.pallet, 3), (self.widget, 1)])
        self.assertEqual(bulky.logistics_backend_id, self.flat, "one bulky line is enough")
        self.run_jobs_of(self.flat)
        self.partner.take_orders()
        self.partner.ship(bulky.name, {"PALLET-1": 1})
        self.flat._sftp_poll()
        self.run_jobs_of(self.flat)
        rest = bulky.backorder_ids
        self.assertEqual(
            (rest.logistics_backend_id, rest.logistics_status), (self.flat, "partially_shipped")
        )
        for backend in (self.backend, self.extensiv, self.flat):
            self.run_jobs_of(backend)
        self.assertEqual(self.partner.take_orders(), [], "the rest is not sent as a new order")
        self.assertFalse(self.wms.orders)
        self.assertFalse(self.sandbox.orders)
        self.partner.ship(bulky.name, {"PALLET-1": 2, "WIDGET-1": 1})
        self.flat._sftp_poll()
        self.run_jobs_of(self.flat)
        self.assertEqual((rest.state, rest.logistics_status), ("done", "shipped"))
