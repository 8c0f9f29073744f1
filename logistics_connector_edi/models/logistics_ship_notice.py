from odoo import api, fields, models

SHIP_NOTICE = [("ship_notice", "Ship Notice (856)")]


class LogisticsMessage(models.Model):
    _inherit = "logistics.message"

    flow = fields.Selection(selection_add=SHIP_NOTICE, ondelete={"ship_notice": "cascade"})


class LogisticsBackendFlow(models.Model):
    _inherit = "logistics.backend.flow"

    flow = fields.Selection(selection_add=SHIP_NOTICE, ondelete={"ship_notice": "cascade"})


class LogisticsBuilder(models.AbstractModel):
    _inherit = "logistics.builder"

    @api.model
    def _build_ship_notice(self, picking, backend):
        """shipment/1 of a validated delivery: what left, in which packages, for a customer
        who wants a ship notice (856)."""
        picking.ensure_one()
        moves = picking.move_ids.filtered(lambda m: m.state == "done" and m.quantity > 0)
        shipped_at = picking.date_done or fields.Datetime.now()
        document = {
            "schema": "shipment/1",
            "reference": picking.name,
            "order_reference": picking.origin or picking.name,
            "correlation_id": picking._logistics_correlation(),
            "status": "complete",
            "shipped_at": shipped_at.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
            "lines": [
                {
                    "line_ref": str(move.id),
                    "sku": self._sku(move.product_id, backend),
                    "quantity_shipped": move.quantity,
                    "uom": backend._map(
                        "uom", move.product_uom.name, default=move.product_uom.name
                    ),
                }
                for move in moves
            ],
        }
        tracking = picking._fields.get("carrier_tracking_ref") and picking.carrier_tracking_ref
        if tracking:
            document["tracking_numbers"] = [t.strip() for t in tracking.split(",") if t.strip()]
        packages = {}
        for line in picking.move_line_ids.filtered(lambda ml: ml.result_package_id and ml.quantity):
            package = packages.setdefault(
                line.result_package_id.id,
                {"reference": line.result_package_id.name, "contents": []},
            )
            package["contents"].append(
                {"sku": self._sku(line.product_id, backend), "quantity": line.quantity}
            )
        if packages:
            document["packages"] = list(packages.values())
        return document


class StockPicking(models.Model):
    _inherit = "stock.picking"

    def _action_done(self):
        result = super()._action_done()
        self._x12_send_ship_notices()
        return result

    def _x12_send_ship_notices(self):
        """A validated delivery to a customer who is an X12 partner asking for ship notices
        gets its 856, queued in this transaction (the outbox)."""
        deliveries = self.filtered(
            lambda p: p.picking_type_code == "outgoing" and p.state == "done" and p.partner_id
        )
        if not deliveries:
            return
        backends = (
            self.env["logistics.backend"]
            .sudo()
            .search([("adapter", "=", "x12_sftp"), ("x12_send_856", "=", True)])
        )
        messages = self.env["logistics.message"].sudo()
        for picking in deliveries:
            customer = picking.partner_id.commercial_partner_id
            for backend in backends:
                if (
                    backend.partner_id.commercial_partner_id == customer
                    and backend.company_id == picking.company_id
                ):
                    messages._create_outbound(backend, "ship_notice", picking)
