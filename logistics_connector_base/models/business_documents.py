from odoo import api, fields, models

from .logistics_message import new_correlation_id


class LogisticsDocumentMixin(models.AbstractModel):
    """Business documents (pickings, sale and purchase orders) carry a correlation id from
    their birth and show their messages and exceptions in smart buttons."""

    _name = "logistics.document.mixin"
    _description = "Logistics Document"

    logistics_correlation_id = fields.Char(
        string="Correlation ID",
        copy=False,
        index=True,
        readonly=True,
        groups="logistics_connector_base.group_logistics_user",
    )
    logistics_message_count = fields.Integer(
        compute="_compute_logistics_counts", groups="logistics_connector_base.group_logistics_user"
    )
    logistics_exception_count = fields.Integer(
        compute="_compute_logistics_counts", groups="logistics_connector_base.group_logistics_user"
    )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            vals.setdefault("logistics_correlation_id", new_correlation_id())
        return super().create(vals_list)

    def _logistics_correlation(self):
        """The document's correlation id; documents older than the addon get one on first use."""
        self.ensure_one()
        if not self.sudo().logistics_correlation_id:
            self.sudo().logistics_correlation_id = new_correlation_id()
        return self.sudo().logistics_correlation_id

    def _logistics_domain(self):
        self.ensure_one()
        domain = ["&", ("res_model", "=", self._name), ("res_id", "=", self.id)]
        correlation_id = self.sudo().logistics_correlation_id
        if correlation_id:
            domain = ["|", ("correlation_id", "=", correlation_id), *domain]
        return domain

    def _compute_logistics_counts(self):
        messages = self.env["logistics.message"]
        exceptions = self.env["logistics.exception"]
        for record in self:
            if not record.id:
                record.logistics_message_count = record.logistics_exception_count = 0
                continue
            domain = record._logistics_domain()
            record.logistics_message_count = messages.search_count(domain)
            record.logistics_exception_count = exceptions.search_count(domain)

    def action_view_logistics_messages(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Logistics Messages"),
            "res_model": "logistics.message",
            "view_mode": "list,form",
            "domain": self._logistics_domain(),
        }

    def action_view_logistics_exceptions(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Logistics Exceptions"),
            "res_model": "logistics.exception",
            "view_mode": "list,form",
            "domain": self._logistics_domain(),
        }


class StockPicking(models.Model):
    _name = "stock.picking"
    _inherit = ["stock.picking", "logistics.document.mixin"]

    logistics_tracking_ref = fields.Char(string="Partner Tracking Number", copy=False, index=True)
    logistics_tracking_status = fields.Selection(
        [
            ("label_created", "Label created"),
            ("in_transit", "In transit"),
            ("out_for_delivery", "Out for delivery"),
            ("available_for_pickup", "Available for pickup"),
            ("delivered", "Delivered"),
            ("exception", "Delivery exception"),
            ("returned", "Returned"),
            ("cancelled", "Cancelled"),
        ],
        string="Parcel Status",
        copy=False,
        tracking=True,
    )
    logistics_tracking_date = fields.Datetime(string="Parcel Status Date", copy=False)
    logistics_confirmation_ref = fields.Char(
        string="Partner Confirmation",
        copy=False,
        readonly=True,
        index="btree_not_null",
        help="The partner's shipment, receipt or return that confirmed this transfer: the same "
        "document received again changes nothing.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        # A picking belongs to the story of the order it serves, a backorder to its picking's.
        for vals in vals_list:
            origin = self._logistics_origin_document(vals)
            if origin:
                vals.setdefault("logistics_correlation_id", origin._logistics_correlation())
        return super().create(vals_list)

    @api.model
    def _logistics_origin_document(self, vals):
        if vals.get("backorder_id"):
            return self.sudo().browse(vals["backorder_id"])
        group = vals.get("group_id") and self.env["procurement.group"].sudo().browse(
            vals["group_id"]
        )
        return group.sale_id if group else None


class SaleOrder(models.Model):
    _name = "sale.order"
    _inherit = ["sale.order", "logistics.document.mixin"]


class PurchaseOrder(models.Model):
    _name = "purchase.order"
    _inherit = ["purchase.order", "logistics.document.mixin"]

    def _prepare_picking(self):
        # The receipt belongs to the purchase order's story.
        values = super()._prepare_picking()
        values["logistics_correlation_id"] = self._logistics_correlation()
        return values
