from odoo import api, fields, models


class LogisticsExceptionResolve(models.TransientModel):
    """Asks for the reason before closing one or many exceptions."""

    _name = "logistics.exception.resolve"
    _description = "Resolve or Ignore Logistics Exceptions"

    exception_ids = fields.Many2many(
        "logistics.exception",
        string="Exceptions",
        help="The exceptions to close; those already closed are left as they are.",
    )
    mode = fields.Selection(
        [("resolve", "Resolve"), ("ignore", "Ignore")],
        required=True,
        default="resolve",
        help="Resolve: the problem is fixed. Ignore: nothing will be done about it.",
    )
    reason = fields.Text(
        required=True,
        help="What was done, or why nothing needs doing. Kept on each exception and in the "
        "audit log.",
    )
    exception_count = fields.Integer(compute="_compute_exception_count")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        context = self.env.context
        if (
            "exception_ids" in fields_list
            and not values.get("exception_ids")
            and context.get("active_model") == "logistics.exception"
            and context.get("active_ids")
        ):
            values["exception_ids"] = [(6, 0, context["active_ids"])]
        return values

    @api.depends("exception_ids")
    def _compute_exception_count(self):
        for wizard in self:
            wizard.exception_count = len(wizard.exception_ids)

    def action_apply(self):
        self.ensure_one()
        state = "resolved" if self.mode == "resolve" else "ignored"
        self.exception_ids._close(state, self.reason)
        return {"type": "ir.actions.act_window_close"}
