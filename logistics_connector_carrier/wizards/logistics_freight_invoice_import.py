import base64
import csv
import io

from odoo import fields, models
from odoo.addons.logistics_connector_base.lib.errors import DocumentValidationError
from odoo.exceptions import UserError

COLUMNS = ("invoice_number", "invoice_date", "currency", "shipment_reference", "tracking_number",
           "amount")  # fmt: skip


class LogisticsFreightInvoiceImport(models.TransientModel):
    """Upload a carrier's freight bill as CSV: one row per charged shipment, with the columns
    invoice_number, invoice_date (YYYY-MM-DD), currency, shipment_reference, tracking_number,
    amount. Several invoices may share a file."""

    _name = "logistics.freight.invoice.import"
    _description = "Import Freight Invoices"

    backend_id = fields.Many2one(
        "logistics.backend",
        string="Carrier Account",
        required=True,
        domain=[("kind", "=", "carrier")],
    )
    file = fields.Binary(string="CSV File", required=True)
    filename = fields.Char()

    def action_import(self):
        self.ensure_one()
        documents = self._documents(self._rows())
        invoices = self.env["logistics.freight.invoice"]
        for document in documents:
            try:
                invoices |= invoices._import_document(self.backend_id, document, source="csv")
            except DocumentValidationError as error:
                raise UserError(
                    self.env._(
                        "Invoice %(number)s cannot be read: %(error)s",
                        number=document["invoice_number"],
                        error=error.message,
                    )
                ) from None
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Freight Invoices"),
            "res_model": "logistics.freight.invoice",
            "view_mode": "list,form",
            "domain": [("id", "in", invoices.ids)],
        }

    def _rows(self):
        try:
            text = base64.b64decode(self.file).decode("utf-8-sig")
        except (ValueError, UnicodeDecodeError):
            raise UserError(self.env._("The file is not a UTF-8 CSV file.")) from None
        rows = list(csv.DictReader(io.StringIO(text)))
        if not rows:
            raise UserError(self.env._("The file has no lines."))
        missing = [column for column in COLUMNS if column not in rows[0]]
        if missing:
            raise UserError(
                self.env._(
                    "The file lacks the column(s) %(missing)s. Expected: %(expected)s.",
                    missing=", ".join(missing),
                    expected=", ".join(COLUMNS),
                )
            )
        return rows

    def _documents(self, rows):
        by_number = {}
        for number, row in enumerate(rows, 2):
            try:
                amount = float(row["amount"])
            except (TypeError, ValueError):
                raise UserError(
                    self.env._(
                        "Line %(line)s: the amount %(amount)r is not a number.",
                        line=number,
                        amount=row["amount"],
                    )
                ) from None
            document = by_number.setdefault(
                row["invoice_number"],
                {
                    "schema": "freight_invoice/1",
                    "invoice_number": row["invoice_number"],
                    "carrier": {"code": self.backend_id.code, "name": self.backend_id.name},
                    "invoice_date": row["invoice_date"],
                    "currency": (row["currency"] or "").upper(),
                    "total_amount": 0.0,
                    "lines": [],
                },
            )
            document["total_amount"] = round(document["total_amount"] + amount, 2)
            document["lines"].append(
                {
                    "shipment_reference": row["shipment_reference"] or row["tracking_number"],
                    "tracking_number": row["tracking_number"] or None,
                    "amount": amount,
                }
            )
        return list(by_number.values())
