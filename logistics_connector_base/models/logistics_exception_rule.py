from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..const import DEFAULT_SLA_HOURS, EXCEPTION_TYPES, SEVERITIES


class LogisticsExceptionRule(models.Model):
    """Who gets an exception and how fast it must be handled. The first active rule (by
    sequence) matching the exception's type, partner and company wins; an empty criterion
    matches anything."""

    _name = "logistics.exception.rule"
    _description = "Logistics Exception Routing Rule"
    _order = "sequence, id"

    name = fields.Char(
        compute="_compute_name", store=True, readonly=False, precompute=True, required=True
    )
    sequence = fields.Integer(default=10, help="Rules are tried in this order; first match wins.")
    active = fields.Boolean(default=True)
    exception_type = fields.Selection(
        EXCEPTION_TYPES, help="Leave empty to match every type of exception."
    )
    backend_id = fields.Many2one(
        "logistics.backend",
        string="Partner",
        ondelete="cascade",
        help="Leave empty to match every logistics partner.",
    )
    company_id = fields.Many2one(
        "res.company", index=True, help="Leave empty to match every company."
    )
    team_id = fields.Many2one(
        "logistics.team", ondelete="restrict", help="Team the matching exceptions go to."
    )
    user_id = fields.Many2one(
        "res.users",
        string="Assignee",
        domain="[('share', '=', False)]",
        help="Person the matching exceptions go to. Empty: the team leader, else the first "
        "team member.",
    )
    severity = fields.Selection(
        SEVERITIES,
        string="Severity Override",
        help="Replaces the severity given by the system; empty keeps it.",
    )
    sla_hours = fields.Float(
        string="SLA (hours)",
        default=DEFAULT_SLA_HOURS,
        help="Time to handle a matching exception before it is overdue. 0 = no deadline.",
    )

    @api.depends("exception_type", "backend_id", "company_id")
    def _compute_name(self):
        types = dict(EXCEPTION_TYPES)
        for rule in self:
            parts = [
                types.get(rule.exception_type) or self.env._("Any type"),
                rule.backend_id.name or self.env._("any partner"),
            ]
            if rule.company_id:
                parts.append(rule.company_id.name)
            rule.name = " / ".join(parts)

    @api.constrains("sla_hours")
    def _check_sla_hours(self):
        for rule in self:
            if rule.sla_hours < 0:
                raise ValidationError(self.env._("The SLA cannot be a negative number of hours."))

    @api.model
    def _match(self, exception_type, backend, company):
        """First active rule for this type, partner and company (empty recordset if none)."""
        domain = [
            ("exception_type", "in", [False, exception_type]),
            ("backend_id", "in", [False, backend.id if backend else False]),
            ("company_id", "in", [False, company.id]),
        ]
        return self.sudo().search(domain, limit=1)

    def _assignee(self, company):
        """The rule's person, else the team's leader or first member who works in ``company``."""
        self.ensure_one()
        if self.user_id and self.user_id.active and company in self.user_id.company_ids:
            return self.user_id
        if self.team_id:
            return self.team_id._pick_assignee(company)
        return self.env["res.users"]
