"""Freight invoices: lines matched to labels, compared with the quoted cost, discrepancies
for finance; CSV upload; the carrier's own document through the pipeline."""

import base64

from odoo.exceptions import UserError

from .common import CarrierCase


class TestFreightInvoice(CarrierCase):
    def csv(self, rows):
        header = "invoice_number,invoice_date,currency,shipment_reference,tracking_number,amount\n"
        return base64.b64encode((header + "\n".join(rows) + "\n").encode())

    def test_csv_invoice_with_a_discrepancy_and_an_unknown_shipment(self):
        first = self.validate(self.make_picking(1.0)).logistics_label_ids
        second = self.validate(self.make_picking(2.0)).logistics_label_ids
        rows = [
            f"INV-1,2025-03-01,USD,{first.picking_id.name},{first.tracking_number},{first.cost:.2f}",
            f"INV-1,2025-03-01,USD,{second.picking_id.name},,{second.cost + 5:.2f}",
            "INV-1,2025-03-01,USD,WH/OUT/99999,EZ0000000000,7.00",
        ]
        wizard = self.env["logistics.freight.invoice.import"].create(
            {"backend_id": self.backend.id, "file": self.csv(rows)}
        )
        wizard.action_import()
        invoice = self.env["logistics.freight.invoice"].search([("name", "=", "INV-1")])
        self.assertEqual(
            invoice.line_ids.mapped("status"), ["matched", "over_charged", "unmatched"]
        )
        self.assertEqual(invoice.line_ids[1].label_id, second, "matched by the delivery order")
        self.assertAlmostEqual(invoice.line_ids[1].difference, 5.0, places=2)
        self.assertEqual(invoice.state, "discrepancy")
        exception = self.env["logistics.exception"].search(
            [("res_model", "=", invoice._name), ("res_id", "=", invoice.id)]
        )
        self.assertEqual(exception.exception_type, "freight_discrepancy")
        self.assertIn("WH/OUT/99999", exception.description)
        wizard.action_import()  # the same file again
        self.assertEqual(
            self.env["logistics.freight.invoice"].search_count([("name", "=", "INV-1")]), 1
        )

    def test_bad_files_are_refused_in_plain_words(self):
        wizard = self.env["logistics.freight.invoice.import"].create(
            {"backend_id": self.backend.id, "file": base64.b64encode(b"number,amount\n1,2\n")}
        )
        with self.assertRaisesRegex(UserError, "lacks the column"):
            wizard.action_import()
        wizard.file = self.csv(["INV-2,2025-03-01,USD,X,,abc"])
        with self.assertRaisesRegex(UserError, "is not a number"):
            wizard.action_import()
        wizard.file = self.csv(["INV-3,01/03/2025,USD,X,,1"])
        with self.assertRaisesRegex(UserError, "INV-3 cannot be read"):
            wizard.action_import()

    def test_the_carriers_document_through_the_pipeline(self):
        label = self.validate(self.make_picking(1.0)).logistics_label_ids
        document = {
            "schema": "freight_invoice/1",
            "invoice_number": "API-1",
            "carrier": {"code": "EASYPOST"},
            "invoice_date": "2025-03-01",
            "currency": "USD",
            "total_amount": label.cost,
            "lines": [{"shipment_reference": label.shipment_ref, "amount": label.cost}],
        }
        message, _created = self.env["logistics.message"]._create_inbound(
            self.backend, "freight_invoice", b"{}"
        )
        invoice = self.env["logistics.applier"]._apply(message, document)
        self.assertEqual(invoice.state, "matched")
        self.assertEqual(invoice.line_ids.label_id, label)

    def test_an_edi_210_bill_matches_the_carrier_accounts_labels(self):
        label = self.validate(self.make_picking(1.0)).logistics_label_ids
        edi_partner = self.env["logistics.backend"].create(
            {"name": "Carrier billing over EDI", "code": "carrier_edi_billing", "kind": "edi"}
        )
        document = {
            "schema": "freight_invoice/1",
            "invoice_number": "210-1",
            "carrier": {"code": "USPS"},
            "invoice_date": "2025-03-01",
            "currency": "USD",
            "total_amount": label.cost + 3,
            "lines": [
                {
                    "shipment_reference": label.picking_id.name,
                    "tracking_number": label.tracking_number,
                    "amount": label.cost + 3,
                }
            ],
        }
        message, _created = self.env["logistics.message"]._create_inbound(
            edi_partner, "freight_invoice", b"ISA*..."
        )
        invoice = self.env["logistics.applier"]._apply(message, document)
        self.assertEqual(invoice.source, "edi")
        self.assertEqual(invoice.line_ids.label_id, label)
        self.assertEqual(invoice.line_ids.status, "over_charged")
