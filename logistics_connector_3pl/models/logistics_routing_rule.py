from odoo import api, fields, models


class LogisticsRoutingRule(models.Model):
    """Which 3PL serves a delivery when several could: the first rule (by sequence) whose
    conditions all hold wins; a condition left empty holds for any delivery. Without a
    matching rule, the warehouse's own 3PL serves it."""

    _name = "logistics.routing.rule"
    _description = "Logistics Routing Rule"
    _order = "sequence, id"

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    backend_id = fields.Many2one(
        "logistics.backend",
        string="3PL",
        required=True,
        ondelete="cascade",
        domain="[('kind', '=', '3pl'), ('company_id', '=', company_id)]",
        help="The 3PL that gets the deliveries this rule matches.",
    )
    warehouse_ids = fields.Many2many(
        "stock.warehouse", string="Warehouses", help="Deliveries from one of these warehouses."
    )
    country_ids = fields.Many2many(
        "res.country", string="Destination Countries", help="Deliveries to one of these countries."
    )
    state_ids = fields.Many2many(
        "res.country.state", string="Destination States", help="Deliveries to one of these states."
    )
    product_category_ids = fields.Many2many(
        "product.category",
        string="Product Categories",
        help="Deliveries with a product of one of these categories (or their subcategories).",
    )
    carrier_ids = fields.Many2many(
        "delivery.carrier",
        string="Carriers / Service Levels",
        help="Deliveries with one of these shipping methods.",
    )
    partner_category_ids = fields.Many2many(
        "res.partner.category",
        string="Customer Tags",
        help="Deliveries to a customer with one of these tags.",
    )
    team_ids = fields.Many2many(
        "crm.team", string="Sales Teams", help="Deliveries of a sales order of one of these teams."
    )

    @api.model
    def _route(self, picking):
        """The 3PL for ``picking``: the first matching rule's, else its warehouse's."""
        rules = self.sudo().search([("company_id", "=", picking.company_id.id)])
        for rule in rules:
            if rule._matches(picking):
                return rule.backend_id
        return picking.picking_type_id.warehouse_id.sudo().logistics_backend_id

    def _matches(self, picking):
        self.ensure_one()
        customer = picking.partner_id
        order = picking.sale_id if "sale_id" in picking._fields else None
        checks = (
            (
                self.warehouse_ids,
                lambda: picking.picking_type_id.warehouse_id in self.warehouse_ids,
            ),
            (self.country_ids, lambda: customer.country_id in self.country_ids),
            (self.state_ids, lambda: customer.state_id in self.state_ids),
            (
                self.product_category_ids,
                lambda: any(
                    set(map(int, category.parent_path.split("/")[:-1]))
                    & set(self.product_category_ids.ids)
                    for category in picking.move_ids.product_id.categ_id
                ),
            ),
            (self.carrier_ids, lambda: picking.carrier_id in self.carrier_ids),
            (
                self.partner_category_ids,
                lambda: bool(
                    (customer.category_id | customer.commercial_partner_id.category_id)
                    & self.partner_category_ids
                ),
            ),
            (self.team_ids, lambda: bool(order) and order.team_id in self.team_ids),
        )
        return all(check() for condition, check in checks if condition)
