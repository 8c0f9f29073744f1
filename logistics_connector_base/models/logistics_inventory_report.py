import csv
import io

import psycopg2

from odoo import api, fields, models
from odoo.tools import float_repr, float_round

from ..const import LINE_STATUSES

STATUS_RANKS = {code: rank for rank, (code, _label) in enumerate(LINE_STATUSES)}
TOTAL_FIELDS = (
    "line_count",
    "difference_count",
    "adjusted_count",
    "exception_count",
    "difference_value",
)


class LogisticsInventoryReport(models.Model):
    """What a partner's inventory snapshot said against Odoo's stock at the same moment, line by
    line, and what was done about the differences."""

    _name = "logistics.inventory.report"
    _description = "Logistics Inventory Reconciliation"
    _order = "taken_at desc, id desc"

    name = fields.Char(required=True, readonly=True)
    backend_id = fields.Many2one(
        "logistics.backend",
        string="Partner",
        required=True,
        readonly=True,
        index=True,
        ondelete="restrict",
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    message_id = fields.Many2one(
        "logistics.message", readonly=True, index=True, ondelete="set null"
    )
    warehouse_id = fields.Many2one("stock.warehouse", required=True, readonly=True)
    location_id = fields.Many2one(
        "stock.location",
        required=True,
        readonly=True,
        help="Odoo's stock of this location and its sub-locations was compared.",
    )
    reference = fields.Char(string="Snapshot Reference", readonly=True)
    snapshot_key = fields.Char(
        readonly=True,
        required=True,
        help="The partner's snapshot reference, or its warehouse and time: a snapshot is "
        "reconciled once, however often it is received.",
    )
    taken_at = fields.Datetime(
        string="Counted At", required=True, readonly=True, help="When the partner counted."
    )
    complete = fields.Boolean(
        readonly=True,
        help="The snapshot lists every product the partner holds: a product it does not list "
        "counts as zero.",
    )
    policy = fields.Selection(
        selection="_selection_policy",
        readonly=True,
        help="The partner's inventory policy when the snapshot was reconciled.",
    )
    stale = fields.Boolean(
        readonly=True,
        help="A snapshot counted later was already reconciled: this one is kept for the record "
        "and changed nothing.",
    )
    line_ids = fields.One2many(
        "logistics.inventory.report.line", "report_id", string="Lines", readonly=True
    )
    line_count = fields.Integer(compute="_compute_totals", store=True)
    difference_count = fields.Integer(string="Differences", compute="_compute_totals", store=True)
    adjusted_count = fields.Integer(string="Adjusted", compute="_compute_totals", store=True)
    exception_count = fields.Integer(string="Need a Person", compute="_compute_totals", store=True)
    difference_value = fields.Monetary(
        compute="_compute_totals",
        store=True,
        help="Value of all differences at cost: positive when the partner holds more than Odoo "
        "counts.",
    )

    _sql_constraints = [
        (
            "snapshot_uniq",
            "unique(backend_id, snapshot_key)",
            "This snapshot was already reconciled for this partner.",
        )
    ]

    @api.model
    def _selection_policy(self):
        return self.env["logistics.backend"]._fields["inventory_policy"].selection

    @api.depends("line_ids.status", "line_ids.value")
    def _compute_totals(self):
        # Counted in the database: a report has up to a whole warehouse's lines.
        totals = {}
        saved = self.filtered("id")
        if saved:
            for report, status, count, value in self.env[
                "logistics.inventory.report.line"
            ]._read_group(
                [("report_id", "in", saved.ids)],
                ["report_id", "status"],
                ["__count", "value:sum"],
            ):
                totals.setdefault(report.id, {})[status] = (count, value)
        for report in self:
            by_status = totals.get(report.id) or {
                status: (len(lines), sum(lines.mapped("value")))
                for status, lines in report.line_ids.grouped("status").items()
            }
            report.line_count = sum(count for count, _value in by_status.values())
            report.difference_count = report.line_count - by_status.get("match", (0, 0))[0]
            report.adjusted_count = by_status.get("adjusted", (0, 0))[0]
            report.exception_count = by_status.get("exception", (0, 0))[0]
            report.difference_value = sum(value for _count, value in by_status.values())

    def _insert_lines(self, line_values):
        """Add the lines of a reconciliation with one COPY instead of one ORM create per line
        (minutes and gigabytes for a warehouse of 100,000 products), with the values the ORM
        would store: quantities and value rounded as their fields round them, company, status
        rank."""
        self.ensure_one()
        lines = self.env["logistics.inventory.report.line"]
        digits = self.env["decimal.precision"].precision_get("Product Unit of Measure")
        currency = self.currency_id or self.env.company.currency_id
        now = self.env.cr.now().isoformat(sep=" ")
        common = (self.id, self.company_id.id or None, self.env.uid, now, self.env.uid, now)

        money_rounding, money_digits = currency.rounding, currency.decimal_places

        def quantity(value):
            return float_repr(float_round(value, precision_digits=digits), digits)

        def money(value):
            if not value:
                return "0"
            return float_repr(float_round(value, precision_rounding=money_rounding), money_digits)

        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for values in line_values:
            writer.writerow(
                (
                    *common,
                    values["product_id"],
                    values.get("lot_id") or None,
                    values.get("lot_name") or None,
                    quantity(values["odoo_quantity"]),
                    quantity(values["partner_quantity"]),
                    quantity(values["difference"]),
                    money(values.get("value")),
                    values["status"],
                    STATUS_RANKS.get(values["status"], 0),
                    values.get("note") or None,
                )
            )
        buffer.seek(0)
        # As Odoo's own COPY (ir.model.data): no asynchronous wait callback during it.
        callback = psycopg2.extensions.get_wait_callback()
        psycopg2.extensions.set_wait_callback(None)
        try:
            self.env.cr.copy_expert(
                "COPY logistics_inventory_report_line (report_id, company_id, create_uid, "
                "create_date, write_uid, write_date, product_id, lot_id, lot_name, "
                "odoo_quantity, partner_quantity, difference, value, status, status_rank, "
                "note) FROM STDIN WITH (FORMAT csv)",
                buffer,
            )
        finally:
            psycopg2.extensions.set_wait_callback(callback)
        # The ORM did not see these rows: what it holds of the lines is stale, the totals are
        # counted again.
        lines.invalidate_model()
        self.invalidate_recordset(["line_ids"])
        for name in TOTAL_FIELDS:
            self.env.add_to_compute(self._fields[name], self)

    def action_open_message(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "logistics.message",
            "res_id": self.message_id.id,
            "view_mode": "form",
        }


class LogisticsInventoryReportLine(models.Model):
    _name = "logistics.inventory.report.line"
    _description = "Logistics Inventory Reconciliation Line"
    _order = "report_id, status_rank desc, product_id, lot_name"

    report_id = fields.Many2one(
        "logistics.inventory.report", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="report_id.company_id", store=True)
    currency_id = fields.Many2one(related="report_id.currency_id")
    product_id = fields.Many2one("product.product", required=True, readonly=True, index=True)
    product_uom_id = fields.Many2one(related="product_id.uom_id", string="Unit")
    lot_id = fields.Many2one("stock.lot", string="Lot/Serial", readonly=True)
    lot_name = fields.Char(
        string="Lot/Serial Name",
        readonly=True,
        help="The lot as the partner named it (it may not exist in Odoo).",
    )
    odoo_quantity = fields.Float(
        digits="Product Unit of Measure",
        readonly=True,
        help="Odoo's quantity at the moment the partner counted (moves done since are taken out).",
    )
    partner_quantity = fields.Float(digits="Product Unit of Measure", readonly=True)
    difference = fields.Float(
        digits="Product Unit of Measure",
        readonly=True,
        help="Partner's quantity minus Odoo's.",
    )
    value = fields.Monetary(readonly=True, help="The difference at the product's cost.")
    status = fields.Selection(LINE_STATUSES, required=True, readonly=True, default="match")
    status_rank = fields.Integer(compute="_compute_status_rank", store=True)
    note = fields.Char(readonly=True)

    @api.depends("status")
    def _compute_status_rank(self):
        for line in self:
            line.status_rank = STATUS_RANKS.get(line.status, 0)
