from odoo import api, fields, models


class LogisticsTeam(models.Model):
    """People who work logistics exceptions together (e.g. warehouse desk, customer care)."""

    _name = "logistics.team"
    _description = "Logistics Team"
    _order = "name"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        index=True,
        help="Leave empty to share the team between companies.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Leader",
        domain="[('share', '=', False)]",
        help="Gets the exceptions routed to the team when the rule names no person.",
    )
    member_ids = fields.Many2many(
        "res.users",
        "logistics_team_member_rel",
        "team_id",
        "user_id",
        string="Members",
        domain="[('share', '=', False)]",
        help="People who see this team's exceptions under the 'My team' filter.",
    )
    open_exception_count = fields.Integer(
        compute="_compute_open_exception_count", help="Exceptions of the team not yet closed."
    )

    def _compute_open_exception_count(self):
        counts = dict(
            self.env["logistics.exception"]._read_group(
                [("team_id", "in", self.ids), ("state", "in", ("new", "in_progress"))],
                ["team_id"],
                ["__count"],
            )
        )
        for team in self:
            team.open_exception_count = counts.get(team, 0)

    def _pick_assignee(self, company):
        """The leader, else the first member, who can work in ``company``."""
        self.ensure_one()
        for user in self.user_id | self.member_ids:
            if user.active and company in user.company_ids:
                return user
        return self.env["res.users"]

    @api.model
    def _my_team_domain(self):
        uid = self.env.uid
        return ["|", ("team_id.member_ids", "in", [uid]), ("team_id.user_id", "=", uid)]

    def action_view_exceptions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "logistics_connector_base.logistics_exception_action"
        )
        action["domain"] = [("team_id", "=", self.id)]
        action["context"] = {"search_default_filter_open": 1, "default_team_id": self.id}
        return action
