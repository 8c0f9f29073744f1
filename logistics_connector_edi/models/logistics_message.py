from odoo import fields, models


class LogisticsMessage(models.Model):
    _inherit = "logistics.message"

    x12_interchange_ids = fields.One2many(
        "logistics.x12.interchange",
        "message_id",
        "X12 Interchanges",
        help="The X12 interchanges this message sent or received: envelope, sets, findings "
        "and acknowledgement status.",
    )

    def _settle_failure(self, error):
        """A refused X12 file is still recorded and answered (rejecting 997/TA1): the
        attempt that found it wrong was rolled back, this transaction commits."""
        details = getattr(error, "details", None) or {}
        if details.get("x12_interchanges") or details.get("x12_answers"):
            self.env["logistics.adapter.x12_sftp"]._x12_record(
                self, details.get("x12_interchanges") or [], details.get("x12_answers") or []
            )
        return super()._settle_failure(error)
