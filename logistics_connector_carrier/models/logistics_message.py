from odoo import fields, models

from ..const import CARRIER_FLOWS


class LogisticsMessage(models.Model):
    _inherit = "logistics.message"

    flow = fields.Selection(
        selection_add=CARRIER_FLOWS, ondelete={code: "cascade" for code, _label in CARRIER_FLOWS}
    )

    def _mark_done(self, *args, **kwargs):
        result = super()._mark_done(*args, **kwargs)
        # A label bought by the job queue (not while a user waits: that caller applies the
        # answer itself, in its own transaction) reaches its picking here.
        if (
            self.direction == "outbound"
            and self.flow == "label"
            and not self.env.context.get("logistics_deadline")
        ):
            self.env["delivery.carrier"]._logistics_label_bought_later(self)
        return result

    def _fail(self, error, *args, **kwargs):
        result = super()._fail(error, *args, **kwargs)
        # A label the queue could not buy (the carrier refused the parcel, or gave up): its
        # picking says so instead of waiting for it.
        if self.direction == "outbound" and self.flow == "label":
            self.env["delivery.carrier"]._logistics_label_failed(self)
        return result
