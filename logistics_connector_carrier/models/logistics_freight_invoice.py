from odoo import api, fields, models
from odoo.addons.logistics_connector_base.lib import canonical
from odoo.addons.logistics_connector_base.lib.errors import DocumentValidationError

# A line is a discrepancy when it differs from the expected cost by more than both of these.
DEFAULT_TOLERANCE_PERCENT = 2.0
DEFAULT_TOLERANCE_AMOUNT = 0.50


class LogisticsFreightInvoice(models.Model):
    """A carrier's freight bill, each line matched to the label it charges for and compared
    with what the carrier quoted when the label was bought. Lines charged beyond the tolerance
    become a freight discrepancy exception for finance."""

    _name = "logistics.freight.invoice"
    _description = "Freight Invoice"
    _inherit = ["mail.thread"]
    _order = "invoice_date desc, id desc"

    name = fields.Char(string="Invoice Number", required=True, readonly=True)
    backend_id = fields.Many2one(
        "logistics.backend", string="Carrier Account", required=True, readonly=True, index=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    invoice_date = fields.Date(required=True, readonly=True)
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    total_amount = fields.Monetary(readonly=True)
    source = fields.Selection(
        [("csv", "CSV upload"), ("api", "Carrier API"), ("edi", "EDI 210")],
        readonly=True,
        default="api",
    )
    line_ids = fields.One2many("logistics.freight.invoice.line", "invoice_id", readonly=True)
    state = fields.Selection(
        [("matched", "Matched"), ("discrepancy", "Discrepancies")],
        compute="_compute_totals",
        store=True,
    )
    expected_amount = fields.Monetary(compute="_compute_totals", store=True)
    difference = fields.Monetary(compute="_compute_totals", store=True)
    unmatched_count = fields.Integer(compute="_compute_totals", store=True)
    over_charged_count = fields.Integer(compute="_compute_totals", store=True)

    _sql_constraints = [
        ("number_uniq", "unique(backend_id, name)", "This carrier invoice was imported already.")
    ]

    @api.depends("line_ids.status", "line_ids.expected_amount", "line_ids.difference")
    def _compute_totals(self):
        for invoice in self:
            lines = invoice.line_ids
            invoice.expected_amount = sum(lines.mapped("expected_amount"))
            invoice.difference = sum(lines.mapped("difference"))
            invoice.unmatched_count = len(lines.filtered(lambda line: line.status == "unmatched"))
            invoice.over_charged_count = len(
                lines.filtered(lambda line: line.status == "over_charged")
            )
            invoice.state = (
                "discrepancy"
                if invoice.unmatched_count or invoice.over_charged_count
                else "matched"
            )

    @api.model
    def _import_document(self, backend, document, source="api"):
        """Record a freight_invoice/1 document once (the same invoice again changes nothing),
        match and compare its lines, and open an exception for finance when lines are
        charged beyond the tolerance or charge for no shipment we know."""
        canonical.check(document)
        existing = self.sudo().search(
            [("backend_id", "=", backend.id), ("name", "=", document["invoice_number"])], limit=1
        )
        if existing:
            return existing
        currency = self._currency(document["currency"])
        invoice = self.sudo().create(
            {
                "name": document["invoice_number"],
                "backend_id": backend.id,
                "invoice_date": document["invoice_date"],
                "currency_id": currency.id,
                "total_amount": document["total_amount"],
                "source": source,
                "line_ids": [
                    (0, 0, self._line_values(backend, line, currency, document["invoice_date"]))
                    for line in document["lines"]
                ],
            }
        )
        invoice._report_discrepancies()
        return invoice

    @api.model
    def _currency(self, code):
        currency = (
            self.env["res.currency"].with_context(active_test=False).search([("name", "=", code)])
        )
        if not currency:
            raise DocumentValidationError(
                self.env._(
                    "The freight invoice is in %(code)s, a currency Odoo does not know.", code=code
                )
            )
        return currency

    @api.model
    def _line_values(self, backend, line, currency, date):
        label = self._match(backend, line)
        expected = 0.0
        if label:
            expected = label.cost_currency_id._convert(
                label.cost, currency, label.company_id, fields.Date.to_date(date)
            )
        amount = line["amount"]
        return {
            "shipment_reference": line["shipment_reference"],
            "tracking_number": line.get("tracking_number"),
            "amount": amount,
            "label_id": label.id,
            "expected_amount": expected,
            "status": self._status(label, amount, expected),
        }

    @api.model
    def _match(self, backend, line):
        labels = self.env["logistics.carrier.label"].sudo()
        domain = [
            ("company_id", "=", backend.company_id.id),
            ("state", "in", ("bought", "cancelled")),
        ]
        if backend.kind == "carrier":
            domain.append(("backend_id", "=", backend.id))
        # else: a bill over EDI (X12 210) comes from a trading partner, not the carrier account
        # that sold the labels: any of the company's labels may match.
        if line.get("tracking_number"):
            found = labels.search(
                [*domain, ("tracking_number", "=", line["tracking_number"])], limit=1
            )
            if found:
                return found
        reference = line["shipment_reference"]
        return labels.search(
            [*domain, "|", ("shipment_ref", "=", reference), ("picking_id.name", "=", reference)],
            limit=1,
        )

    @api.model
    def _status(self, label, amount, expected):
        if not label:
            return "unmatched"
        parameters = self.env["ir.config_parameter"].sudo()
        percent = float(
            parameters.get_param(
                "logistics_connector.freight_tolerance_percent", DEFAULT_TOLERANCE_PERCENT
            )
        )
        absolute = float(
            parameters.get_param(
                "logistics_connector.freight_tolerance_amount", DEFAULT_TOLERANCE_AMOUNT
            )
        )
        difference = amount - expected
        if abs(difference) <= max(absolute, abs(expected) * percent / 100):
            return "matched"
        return "over_charged" if difference > 0 else "under_charged"

    def _report_discrepancies(self):
        for invoice in self:
            problems = invoice.line_ids.filtered(
                lambda line: line.status in ("over_charged", "unmatched")
            )
            if not problems:
                continue
            lines = "\n".join(
                f"- {line.shipment_reference} {line.tracking_number or ''}: "
                + (
                    self.env._(
                        "charged %(amount).2f, expected %(expected).2f",
                        amount=line.amount,
                        expected=line.expected_amount,
                    )
                    if line.status == "over_charged"
                    else self.env._(
                        "charged %(amount).2f for a shipment we do not know", amount=line.amount
                    )
                )
                for line in problems
            )
            self.env["logistics.exception"].raise_exception(
                "freight_discrepancy",
                self.env._(
                    "Freight invoice %(number)s of %(carrier)s: %(count)s line(s) to check",
                    number=invoice.name,
                    carrier=invoice.backend_id.name,
                    count=len(problems),
                ),
                self.env._(
                    "Over-charged or unknown lines (tolerance: the larger of the configured "
                    "percentage and amount):\n%(lines)s\nDispute them with the carrier, or resolve "
                    "this exception once settled.",
                    lines=lines,
                ),
                backend=invoice.backend_id,
                record=invoice,
                dedup_key=f"freight_invoice:{invoice.id}",
            )


class LogisticsFreightInvoiceLine(models.Model):
    _name = "logistics.freight.invoice.line"
    _description = "Freight Invoice Line"
    _order = "invoice_id, id"

    invoice_id = fields.Many2one(
        "logistics.freight.invoice", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="invoice_id.company_id", store=True)
    currency_id = fields.Many2one(related="invoice_id.currency_id", store=True)
    backend_id = fields.Many2one(related="invoice_id.backend_id", store=True)
    shipment_reference = fields.Char(required=True)
    tracking_number = fields.Char()
    label_id = fields.Many2one("logistics.carrier.label", index=True)
    picking_id = fields.Many2one(related="label_id.picking_id", store=True)
    amount = fields.Monetary(string="Charged")
    expected_amount = fields.Monetary(string="Expected")
    difference = fields.Monetary(compute="_compute_difference", store=True)
    status = fields.Selection(
        [
            ("matched", "Matched"),
            ("over_charged", "Over-charged"),
            ("under_charged", "Under-charged"),
            ("unmatched", "Unmatched"),
        ],
        required=True,
    )

    @api.depends("amount", "expected_amount", "label_id")
    def _compute_difference(self):
        for line in self:
            line.difference = line.amount - line.expected_amount if line.label_id else 0.0
