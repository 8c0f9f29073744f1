import base64

from odoo import fields, models

from ..x12 import PartnerRules, X12Reader, segment_lines

RESULTS = [
    ("accepted", "Accepted"),
    ("accepted_with_errors", "Accepted with Errors"),
    ("rejected", "Rejected"),
    ("unreadable", "Unreadable"),
]


class LogisticsX12ValidateWizard(models.TransientModel):
    """Validate an X12 file the way a partner's files are validated, without sending or
    applying anything: for administrators onboarding a partner."""

    _name = "logistics.x12.validate.wizard"
    _description = "Validate an X12 File"

    backend_id = fields.Many2one(
        "logistics.backend",
        "Partner",
        domain=[("adapter", "=", "x12_sftp")],
        help="Validate with this partner's restrictions; empty: the plain standard.",
    )
    file = fields.Binary(required=True)
    file_name = fields.Char()
    result = fields.Selection(RESULTS, readonly=True)
    summary = fields.Text(readonly=True)
    findings = fields.Text(readonly=True)
    segments = fields.Text(readonly=True)

    def action_validate(self):
        self.ensure_one()
        data = base64.b64decode(self.file or b"")
        rules = self.backend_id._x12_rules() if self.backend_id else PartnerRules()
        report = X12Reader(data, rules=rules, keep_segments=False).run()
        findings = report.findings()
        self.write(
            {
                "result": report.status,
                "summary": "\n".join(report.summary()) or False,
                "findings": "\n".join(findings) or self.env._("No findings."),
                "segments": "\n".join(segment_lines(data, report)),
            }
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }
