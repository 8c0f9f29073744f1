from odoo import api, models


class LogisticsApplier(models.AbstractModel):
    _inherit = "logistics.applier"

    @api.model
    def _apply_tracking_event(self, message, document):
        """A scan of a parcel whose label this partner sold goes to that label (history,
        delivery state, customer email, exceptions); other tracking numbers as before."""
        label = (
            self.env["logistics.carrier.label"]
            .sudo()
            .search(
                [
                    ("backend_id", "=", message.backend_id.id),
                    ("tracking_number", "=", document["tracking_number"]),
                    ("state", "in", ("bought", "cancelled")),
                ],
                limit=1,
                order="id desc",
            )
        )
        if not label:
            return super()._apply_tracking_event(message, document)
        picking = label.picking_id
        message.write(
            {
                "res_model": "stock.picking",
                "res_id": picking.id,
                "correlation_id": picking._logistics_correlation(),
            }
        )
        label._apply_tracking_event(message, document)
        return picking

    @api.model
    def _apply_freight_invoice(self, message, document):
        """A freight bill from the carrier (its API, or an X12 210 through the EDI addon)."""
        source = "edi" if message.backend_id.kind == "edi" else "api"
        invoice = self.env["logistics.freight.invoice"]._import_document(
            message.backend_id, document, source=source
        )
        message.write({"res_model": invoice._name, "res_id": invoice.id})
        return invoice
