from odoo import fields, models


class LogisticsBackend(models.Model):
    """A logistics partner: a 3PL warehouse, a carrier or an EDI trading partner."""

    _name = "logistics.backend"
    _description = "Logistics Partner"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "sequence, name"

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Contact",
        help="The partner company in Odoo (address, contacts, invoices).",
    )
    kind = fields.Selection(
        [
            ("3pl", "3PL Warehouse"),
            ("carrier", "Carrier"),
            ("edi", "EDI Partner"),
            ("other", "Other"),
        ],
        required=True,
        default="3pl",
        tracking=True,
    )
    adapter = fields.Selection(
        [("generic_rest", "Generic REST (JSON)")],
        required=True,
        default="generic_rest",
        tracking=True,
        help="The protocol adapter that translates canonical documents to this partner's wire "
        "format. Partner addons add their own adapters.",
    )
    environment = fields.Selection(
        [("test", "Test"), ("production", "Production")],
        required=True,
        default="test",
        tracking=True,
        help="Which set of endpoints and credentials is used.",
    )
