from odoo import api, fields, models

from ..const import LINE_STATUSES


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
        for report in self:
            lines = report.line_ids
            report.line_count = len(lines)
            report.difference_count = len(lines.filtered(lambda line: line.status != "match"))
            report.adjusted_count = len(lines.filtered(lambda line: line.status == "adjusted"))
            report.exception_count = len(lines.filtered(lambda line: line.status == "exception"))
            report.difference_value = sum(lines.mapped("value"))

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
        ranks = {code: rank for rank, (code, _label) in enumerate(LINE_STATUSES)}
        for line in self:
            line.status_rank = ranks.get(line.status, 0)
