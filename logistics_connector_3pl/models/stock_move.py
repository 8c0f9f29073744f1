from odoo import api, models


class StockMove(models.Model):
    _inherit = "stock.move"

    @api.model_create_multi
    def create(self, vals_list):
        moves = super().create(vals_list)
        moves._logistics_lines_changed()
        return moves

    def write(self, vals):
        result = super().write(vals)
        if "product_uom_qty" in vals or "product_id" in vals:
            self._logistics_lines_changed()
        return result

    def _logistics_lines_changed(self):
        """A released delivery whose lines change tells its 3PL; validation and confirmations
        (which split moves into backorders) say nothing."""
        if self.env.context.get("logistics_no_propagate"):
            return
        pickings = self.picking_id.filtered(lambda p: p.logistics_backend_id and p.logistics_status)
        if pickings:
            pickings._logistics_propagate_change()
