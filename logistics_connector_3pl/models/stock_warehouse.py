from odoo import fields, models


class StockWarehouse(models.Model):
    _inherit = "stock.warehouse"

    logistics_backend_id = fields.Many2one(
        "logistics.backend",
        string="Operated by (3PL)",
        domain="[('kind', '=', '3pl'), ('company_id', '=', company_id)]",
        help="The 3PL that runs this warehouse: its delivery orders, receipts and returns are "
        "sent to it when they become ready (routing rules may choose another 3PL).",
    )
