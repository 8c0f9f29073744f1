from odoo import models

from ..controllers.webhook import read_raw_body


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _pre_dispatch(cls, rule, args):
        result = super()._pre_dispatch(rule, args)
        if rule.endpoint.routing.get("logistics_webhook"):
            # Before Odoo parses a form body into parameters (which would consume it): keep
            # the raw bytes the signature covers, read within the partner's own size limit.
            read_raw_body(args.get("token"))
        return result
