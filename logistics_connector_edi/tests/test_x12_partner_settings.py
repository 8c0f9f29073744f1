"""The trading partner settings an administrator edits: which set feeds which flow, and the
partner's restrictions as lines the X12 engine reads."""

import base64
import json

from odoo.addons.logistics_connector_base.lib.errors import ConfigurationError
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from ..const import DEFAULT_SET_MAPPINGS
from ..x12 import validate
from .x12_samples import SHIPMENT_945, x12


@tagged("post_install", "-at_install")
class TestX12PartnerSettings(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.env["logistics.backend"].create(
            {
                "name": "EDI settings partner",
                "code": "edi_settings",
                "kind": "edi",
                "adapter": "x12_sftp",
                "x12_our_id": "OURCOMPANY",
                "x12_partner_id": "PARTNER3PL",
            }
        )

    def mappings(self, backend=None):
        return (backend or self.backend).x12_set_mapping_ids

    def restriction(self, **values):
        return self.env["logistics.x12.restriction"].create(
            {"backend_id": self.backend.id, **values}
        )

    # ---- transaction set mapping -------------------------------------------------------------
    def test_a_new_partner_starts_with_the_standard_mapping(self):
        self.assertEqual(
            sorted(self.mappings().mapped(lambda m: (m.direction, m.set_id, m.flow))),
            sorted(DEFAULT_SET_MAPPINGS),
        )
        self.assertEqual(self.backend._x12_flow_of_set("214"), "tracking_event")
        self.assertEqual(self.backend._x12_set_of_flow("ship_notice"), "856")
        demo = self.env.ref("logistics_connector_edi.demo_backend_edi")
        self.assertEqual(len(self.mappings(demo)), len(DEFAULT_SET_MAPPINGS))

    def test_a_partner_becoming_x12_gets_the_mapping(self):
        other = self.env["logistics.backend"].create(
            {"name": "Files partner", "code": "edi_later", "kind": "edi"}
        )
        self.assertFalse(self.mappings(other))
        other.adapter = "x12_sftp"
        self.assertEqual(len(self.mappings(other)), len(DEFAULT_SET_MAPPINGS))

    def test_a_duplicated_partner_keeps_its_sets_and_guide(self):
        self.mappings().filtered(lambda m: m.set_id == "210").active = False
        self.restriction(kind="codes", segment="W12", position=1, codes="CC")
        copy = self.backend.copy({"code": "edi_settings_copy"})
        self.assertEqual(len(self.mappings(copy)), len(DEFAULT_SET_MAPPINGS))
        self.assertIsNone(copy._x12_flow_of_set("210"), "archived in the original, so here")
        self.assertEqual(copy._x12_rules().code_lists, {"W12-01": ("CC",)})

    def test_the_set_of_a_file_is_read_from_its_head(self):
        adapter = self.env["logistics.adapter.x12_sftp"]
        text = x12(SHIPMENT_945, functional_id="SW")
        self.assertEqual(adapter._first_set_id(text.encode()), "945")
        # a TA1 before the group, and a head cut before the ST: the group says which set
        isa, rest = text[:107], text[107:]
        with_ta1 = isa + "TA1*000000001*250301*1200*A*000~\n" + rest
        self.assertEqual(adapter._first_set_id(with_ta1.encode()), "945")
        cut = text[: text.index("ST*945")]
        self.assertEqual(adapter._first_set_id(cut.encode()), "945")
        self.assertIsNone(adapter._first_set_id(b"order;qty\nSO1;2\n"))
        self.assertEqual(
            adapter._file_flow(self.backend, "x.x12", text.encode(), "file"), "shipment"
        )

    def test_an_archived_line_unmaps_the_set_or_the_flow(self):
        self.mappings().filtered(lambda m: m.set_id in ("846", "940")).active = False
        self.assertIsNone(self.backend._x12_flow_of_set("846"))
        with self.assertRaisesRegex(
            ConfigurationError, "no transaction set for Order Release messages: add a Sent line"
        ):
            self.backend._x12_set_of_flow("order_release")
        self.assertEqual(len(self.mappings()), len(DEFAULT_SET_MAPPINGS), "kept, archived")

    def test_a_set_and_a_flow_must_carry_the_same_document(self):
        inbound_846 = self.mappings().filtered(lambda m: m.set_id == "846")
        with self.assertRaisesRegex(
            UserError, "846 Inventory Inquiry/Advice cannot carry the flow"
        ):
            inbound_846.flow = "shipment"
        with self.assertRaisesRegex(UserError, "is a set partners send to us"):
            self.mappings().filtered(lambda m: m.set_id == "945").direction = "outbound"
        with self.assertRaisesRegex(UserError, "is a set we send"):
            self.mappings().filtered(lambda m: m.set_id == "940").direction = "inbound"

    def test_one_active_line_per_received_set_and_per_sent_flow(self):
        mapping = self.env["logistics.x12.set.mapping"]
        with self.assertRaisesRegex(UserError, "already has an active line for 945"):
            mapping.create(
                {
                    "backend_id": self.backend.id,
                    "direction": "inbound",
                    "set_id": "945",
                    "flow": "shipment",
                }
            )
        # the ship notice flow sent as an 856: a second, inactive line may wait for its turn
        self.mappings().filtered(lambda m: m.flow == "ship_notice").active = False
        spare = mapping.create(
            {
                "backend_id": self.backend.id,
                "direction": "outbound",
                "set_id": "856",
                "flow": "shipment",
            }
        )
        self.assertEqual(self.backend._x12_set_of_flow("shipment"), "856")
        with self.assertRaisesRegex(UserError, "already has an active line for Shipment"):
            spare.copy()

    # ---- partner restrictions ------------------------------------------------------------------
    def test_lines_become_the_rules_the_engine_applies(self):
        self.restriction(kind="codes", segment="w12", position=1, codes="CC, BP")
        self.restriction(kind="required", set_id="945", segment="W27")
        self.restriction(kind="required", segment="W06", position=4)
        self.restriction(kind="tolerated", tolerated_error="AK4:5")
        self.backend.x12_charset = "basic"
        rules = self.backend._x12_rules()
        self.assertEqual(rules.code_lists, {"W12-01": ("CC", "BP")})
        self.assertEqual(rules.required, ("945:W27", "W06-04"))
        self.assertEqual(rules.tolerated, frozenset({"AK4:5"}))
        self.assertEqual((rules.charset, rules.versions), ("basic", ("004010",)))
        self.assertEqual(
            json.loads(self.backend.x12_rules),
            {
                "charset": "basic",
                "code_lists": {"W12-01": ["CC", "BP"]},
                "required": ["945:W27", "W06-04"],
                "tolerated": ["AK4:5"],
            },
        )
        # the sample 945 has W12*BP and no W27: rejected for the W27 only
        report = validate(x12(SHIPMENT_945, functional_id="SW"), rules=rules)
        self.assertEqual(report.status, "rejected")
        self.assertIn("segment W27 is mandatory but missing", "\n".join(report.findings()))
        self.assertNotIn("not a valid code", "\n".join(report.findings()))

    def test_archived_lines_are_not_applied(self):
        line = self.restriction(kind="codes", segment="W12", position=1, codes="CC")
        line.active = False
        self.assertEqual(self.backend._x12_rules().code_lists, {})

    def test_json_pasted_in_becomes_lines(self):
        self.restriction(kind="tolerated", tolerated_error="AK3:2")
        self.backend.x12_rules = json.dumps(
            {"code_lists": {"W05-01": ["N"]}, "required": ["940:W66"], "charset": "basic"}
        )
        lines = self.backend.x12_restriction_ids
        self.assertEqual(
            lines.mapped(lambda r: (r.kind, r.set_id, r.segment, r.position, r.codes)),
            [("codes", False, "W05", 1, "N"), ("required", "940", "W66", 0, False)],
        )
        self.assertEqual(self.backend.x12_charset, "basic")

    def test_bad_json_is_refused_in_plain_words(self):
        for text, words in (
            ("{not json", "must be JSON like"),
            ("[1]", "an object {...} is expected"),
            ('{"codes": {}}', "unknown key(s) codes"),
            ('{"code_lists": {"W12-01": "CC"}}', 'maps "W12-01" to a list of codes'),
            ('{"charset": "utf8"}', '"charset" is "basic" or "extended"'),
            ('{"code_lists": {"ZZZ-01": ["CC"]}}', "ZZZ is not a segment of any set"),
            ('{"code_lists": {"W12-AB": ["CC"]}}', 'W12-AB: a code list is for "SEGMENT-position"'),
            ('{"required": ["999:W27"]}', '999:W27: "required" lists segments or elements'),
            ('{"required": ["W27 please"]}', 'W27 please: "required" lists segments'),
            ('{"tolerated": ["AK4:99"]}', "AK4:99 cannot be tolerated; tolerable are AK3:2"),
        ):
            with self.subTest(text=text), self.assertRaises(UserError) as caught:
                self.backend.x12_rules = text
            self.assertIn(words, str(caught.exception))

    def test_a_bad_line_is_refused_in_plain_words(self):
        for values, words in (
            ({"kind": "codes", "position": 1, "codes": "CC"}, "fill in the segment ID"),
            ({"kind": "codes", "segment": "W1-2", "codes": "CC"}, "W1-2 is not a segment ID"),
            ({"kind": "codes", "segment": "W12", "position": 40, "codes": "CC"}, "W12 has"),
            ({"kind": "codes", "segment": "W12", "codes": "CC"}, "fill in its position"),
            ({"kind": "codes", "segment": "W12", "position": 1}, "list the allowed codes"),
            (
                {"kind": "codes", "segment": "W12", "position": 1, "codes": "CCC"},
                "CCC does not fit Shipment/Order Status Code (2 to 2 characters)",
            ),
            (
                {"kind": "codes", "segment": "W12", "position": 1, "codes": "C-"},
                "codes are letters and digits only",
            ),
            (
                {"kind": "codes", "set_id": "945", "segment": "W12", "position": 1, "codes": "CC"},
                "a code list applies in every set",
            ),
            (
                {"kind": "required", "set_id": "940", "segment": "W12"},
                "the 940 Warehouse Shipping Order has no W12 segment",
            ),
            ({"kind": "tolerated"}, "choose the error the partner tolerates"),
            (
                {"kind": "tolerated", "tolerated_error": "AK4:5", "segment": "W12"},
                "a tolerated error applies to the whole file",
            ),
        ):
            with self.subTest(values=values), self.assertRaises(UserError) as caught:
                self.restriction(**values)
            self.assertIn(words, str(caught.exception))
            self.assertIn("Partner restriction of EDI settings partner", str(caught.exception))

    def test_lines_are_checked_against_the_partners_edition(self):
        # N4 has six elements in 004010; 005010 added N407 (country subdivision).
        with self.assertRaisesRegex(UserError, "N4 has 6 elements: element 7 does not exist"):
            self.restriction(kind="required", segment="N4", position=7)
        self.backend.x12_version = "005010"
        line = self.restriction(kind="required", segment="N4", position=7)
        self.assertEqual(line.position, 7)

    def test_two_code_lists_for_one_element_are_refused(self):
        self.restriction(kind="codes", segment="W12", position=1, codes="CC")
        with self.assertRaisesRegex(UserError, "two code lists for W12-01"):
            self.restriction(kind="codes", segment="W12", position=1, codes="BP")

    def test_the_wizard_validates_with_the_lines(self):
        self.restriction(kind="codes", segment="W12", position=1, codes="CC")
        text = x12(SHIPMENT_945, functional_id="SW")
        wizard = self.env["logistics.x12.validate.wizard"].create(
            {
                "file": base64.b64encode(text.encode()),
                "backend_id": self.backend.id,
            }
        )
        wizard.action_validate()
        self.assertEqual(wizard.result, "rejected")
        self.assertIn("'BP' is not a valid code; expected one of CC", wizard.findings)
