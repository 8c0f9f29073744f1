"""Fallback rules re-route a delivery to another shipping method: the carrier is down, the
parcel is heavy, or it goes abroad."""

from .common import API_KEY, CarrierCase


class TestFallbackRules(CarrierCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_backend = cls.backend.copy(
            {
                "name": "Second carrier account",
                "code": "sandbox_carrier_b",
                "endpoint_ids": [
                    (0, 0, {"base_url": cls.sandbox.base_url, "auth_kind": "basic",
                            "username": API_KEY})
                ],
            }
        )  # fmt: skip
        cls.ups = cls.carrier.copy(
            {
                "name": "Sandbox UPS Ground",
                "logistics_backend_id": cls.other_backend.id,
                "logistics_carrier_code": "UPS",
                "logistics_service": "Ground",
            }
        )

    def add_rule(self, **conditions):
        return self.env["logistics.carrier.fallback"].create(
            {"carrier_id": self.carrier.id, "alternate_carrier_id": self.ups.id, **conditions}
        )

    def test_carrier_down_reroutes_to_the_other_carrier(self):
        self.add_rule(when_carrier_down=True)
        for _failure in range(self.backend.breaker_threshold):
            self.backend._breaker_record_failure("carrier down")
        picking = self.validate(self.make_picking(1.0))
        self.assertEqual(picking.carrier_id, self.ups)
        label = picking.logistics_label_ids
        self.assertEqual(label.backend_id, self.other_backend)
        self.assertEqual(label.state, "bought")
        self.assertEqual(self.sandbox.labels_bought()[0]["selected_rate"]["carrier"], "UPS")
        self.assertIn("fallback rule", " ".join(picking.message_ids.mapped("body")))

    def test_heavy_parcels_go_with_the_other_service_light_ones_stay(self):
        self.add_rule(weight_above=5.0)
        light = self.validate(self.make_picking(2.0))
        self.assertEqual(light.carrier_id, self.carrier)
        heavy = self.validate(self.make_picking(8.0))
        self.assertEqual(heavy.carrier_id, self.ups)
        services = [s["selected_rate"]["service"] for s in self.sandbox.labels_bought()]
        self.assertEqual(services, ["Priority", "Ground"])

    def test_destination_rule_and_no_loops(self):
        self.add_rule(country_ids=[(6, 0, self.env.ref("base.us").ids)])
        # A rule back to the first method: chains stop where they started.
        self.env["logistics.carrier.fallback"].create(
            {"carrier_id": self.ups.id, "alternate_carrier_id": self.carrier.id,
             "country_ids": [(6, 0, self.env.ref("base.us").ids)]}
        )  # fmt: skip
        method, reason = self.carrier._logistics_reroute(self.make_picking(1.0))
        self.assertIn("goes to United States", reason)
        self.assertIn(method, self.carrier | self.ups)
