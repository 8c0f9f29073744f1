from odoo import api, fields, models
from odoo.addons.logistics_connector_base.lib.errors import BusinessError


class LogisticsBuilder(models.AbstractModel):
    """Receipts announced to a warehouse partner (advance shipping notice) and customer
    returns announced to it (return authorization)."""

    _inherit = "logistics.builder"

    @api.model
    def _build_receipt(self, picking, backend):
        """receipt/1 at the stage 'expected': what a receipt (e.g. of a purchase order) will
        bring to the partner's warehouse."""
        picking.ensure_one()
        moves = self._announced_moves(picking)
        document = {
            "schema": "receipt/1",
            "reference": picking.name,
            "stage": "expected",
            "correlation_id": picking._logistics_correlation(),
            "po_reference": picking.origin or None,
            "warehouse_code": backend._map("warehouse", picking.picking_type_id.warehouse_id.code),
            "lines": [
                {
                    "line_ref": str(move.id),
                    "sku": self._sku(move.product_id, backend),
                    "uom": self._uom(move, backend),
                    "quantity_expected": move.product_uom_qty,
                }
                for move in moves
            ],
        }
        if picking.scheduled_date:
            document["expected_date"] = fields.Date.to_string(picking.scheduled_date.date())
        return document

    @api.model
    def _build_return(self, picking, backend):
        """return/1 'announced': a customer return the partner will receive."""
        picking.ensure_one()
        moves = self._announced_moves(picking)
        delivery = moves.origin_returned_move_id.picking_id[:1] or picking.return_id
        customer = picking.partner_id
        document = {
            "schema": "return/1",
            "reference": picking.name,
            "status": "announced",
            "correlation_id": picking._logistics_correlation(),
            "original_order_reference": delivery.name or None,
            "warehouse_code": backend._map("warehouse", picking.picking_type_id.warehouse_id.code),
            "lines": [
                {
                    "line_ref": str(move.id),
                    "sku": self._sku(move.product_id, backend),
                    "uom": self._uom(move, backend),
                    "quantity": move.product_uom_qty,
                    "disposition": "restock",
                }
                for move in moves
            ],
        }
        if customer:
            document["customer"] = {
                "name": customer.name or customer.display_name,
                "email": customer.email or None,
                "country": customer.country_id.code or None,
            }
        return document

    @api.model
    def _announced_moves(self, picking):
        moves = picking.move_ids.filtered(lambda m: m.state != "cancel" and m.product_uom_qty > 0)
        if not moves:
            raise BusinessError(
                self.env._("%(picking)s has nothing to announce.", picking=picking.display_name)
            )
        return moves

    @api.model
    def _uom(self, move, backend):
        return backend._map("uom", move.product_uom.name, default=move.product_uom.name)
