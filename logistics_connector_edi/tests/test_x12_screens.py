"""The administrator's X12 tools: the "validate this file" wizard and the segment viewer."""

import base64
import json
import tempfile
from pathlib import Path

from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged

from ..x12 import segment_lines, validate
from .x12_samples import ORDER_940, SHIPMENT_945, x12


@tagged("post_install", "-at_install")
class TestX12Screens(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.env["logistics.backend"].create(
            {
                "name": "EDI screens partner",
                "code": "edi_screens",
                "kind": "edi",
                "adapter": "x12_sftp",
                "x12_our_id": "OURCOMPANY",
                "x12_partner_id": "PARTNER3PL",
                "x12_rules": '{"code_lists": {"W12-01": ["CC"]}}',
            }
        )
        cls.manager = new_test_user(
            cls.env,
            login="lc_edi_manager",
            groups="logistics_connector_base.group_logistics_manager",
        )

    def wizard(self, text, backend=None):
        wizard = (
            self.env["logistics.x12.validate.wizard"]
            .with_user(self.manager)
            .create(
                {
                    "file": base64.b64encode(text.encode()),
                    "file_name": "sample.x12",
                    "backend_id": backend.id if backend else False,
                }
            )
        )
        action = wizard.action_validate()
        self.assertEqual((action["res_id"], action["target"]), (wizard.id, "new"))
        return wizard

    def test_the_wizard_validates_with_the_partners_restrictions(self):
        text = x12(SHIPMENT_945, functional_id="SW")
        plain = self.wizard(text)
        self.assertEqual(plain.result, "accepted")
        self.assertEqual(plain.findings, "No findings.")
        narrowed = self.wizard(text, self.backend)
        self.assertEqual(narrowed.result, "rejected")
        self.assertIn("'BP' is not a valid code; expected one of CC", narrowed.findings)
        self.assertIn("!! segment W12 at position 11", narrowed.segments)
        self.assertIn(
            "accepted, 0 of 1 sets accepted", narrowed.summary.replace("rejected", "accepted")
        )

    def test_the_wizard_explains_an_unreadable_file(self):
        wizard = self.wizard("this is not X12 " * 10)
        self.assertEqual(wizard.result, "unreadable")
        self.assertIn("expected an interchange header 'ISA'", wizard.findings)

    def test_sequences_and_usage_follow_the_partner(self):
        self.assertTrue(self.backend.x12_interchange_sequence_id)
        self.assertEqual(self.backend.x12_usage_indicator, "T")
        self.backend.environment = "production"
        self.assertEqual(self.backend.x12_usage_indicator, "P")

    def test_restrictions_that_are_not_json_are_refused_in_plain_words(self):
        with self.assertRaisesRegex(ValidationError, "must be JSON"):
            self.backend.x12_rules = "{not json"

    def test_clashing_separators_are_refused_in_plain_words(self):
        with self.assertRaisesRegex(ValidationError, "must be 3 different special characters"):
            self.backend.x12_component_separator = "*"


def test_segment_lines_number_and_indent_the_file():
    text = x12(ORDER_940)
    lines = segment_lines(text, validate(text))
    assert lines[0].startswith("     1        ISA*00*")
    assert (
        lines[1]
        == "     2          GS | OW | OURCOMPANY | PARTNER3PL | 20250301 | 1200 | 1 | X | 004010"
    )
    assert lines[3] == "     4     2        W05 | N | SO123 | PO9"
    assert segment_lines("garbage")[-1].startswith("!! unreadable: expected an interchange header")
    assert segment_lines(text, limit=3)[-1] == "... (listing stops after 3 segments)"


@tagged("post_install", "-at_install")
class TestX12Demo(TransactionCase):
    def test_the_demo_partner_takes_the_demo_servers_new_keys(self):
        demo = self.env.ref("logistics_connector_edi.demo_backend_edi")
        with tempfile.TemporaryDirectory() as folder:
            key = Path(folder) / "client_key"
            key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nx\n")
            connection = Path(folder) / "connection.json"
            connection.write_text(
                json.dumps(
                    {
                        "host": "127.0.0.1",
                        "port": 8799,
                        "username": "demo",
                        "host_key": "ssh-ed25519 AAAAdemo",
                        "client_key": str(key),
                    }
                )
            )
            self.assertTrue(self.env["logistics.backend"]._demo_connect_sandboxes(str(connection)))
        endpoint = demo.endpoint_ids.filtered(lambda e: e.environment == "test")
        self.assertEqual((endpoint.sftp_port, endpoint.sftp_username), (8799, "demo"))
        self.assertEqual(endpoint.sftp_host_key, "ssh-ed25519 AAAAdemo")
        self.assertEqual(demo.x12_usage_indicator, "T")
        files = self.env.ref("logistics_connector_edi.demo_backend_edi_flow_files")
        self.assertEqual(files.mode, "batch", "files are fetched once the keys are known")
