import json

from odoo import api, fields, models
from odoo.addons.logistics_connector_base.models.db_tools import autonomous_cursor
from odoo.exceptions import ValidationError

from ..const import LINE_BREAKS
from ..x12 import Delimiters, PartnerRules
from ..x12.serializer import LINE_BREAK_CHOICES


class LogisticsBackend(models.Model):
    """Trading partner settings of an X12 partner: envelope identifiers, separators,
    version, the partner's restrictions and the control number sequences."""

    _inherit = "logistics.backend"

    adapter = fields.Selection(
        selection_add=[("x12_sftp", "X12 EDI over SFTP")],
        ondelete={"x12_sftp": "set default"},
    )
    x12_our_qualifier = fields.Char(
        "Our ID Qualifier", default="ZZ", size=2, help="ISA05 in what we send (ISA07 received)."
    )
    x12_our_id = fields.Char(
        "Our Interchange ID", size=15, help="ISA06 in what we send, ISA08 in what we receive."
    )
    x12_partner_qualifier = fields.Char("Partner ID Qualifier", default="ZZ", size=2)
    x12_partner_id = fields.Char(
        "Partner Interchange ID", size=15, help="ISA08 in what we send, ISA06 received."
    )
    x12_our_application = fields.Char(
        "Our Application Code", size=15, help="GS02 in what we send; empty: our interchange ID."
    )
    x12_partner_application = fields.Char(
        "Partner Application Code", size=15, help="GS03 in what we send; empty: its ID."
    )
    x12_version = fields.Selection(
        [("004010", "004010")],
        default="004010",
        help="GS08 of what we send; what we receive must be in this version.",
    )
    x12_element_separator = fields.Char("Element Separator", default="*", size=1)
    x12_component_separator = fields.Char("Component Separator", default=">", size=1)
    x12_segment_terminator = fields.Char("Segment Terminator", default="~", size=1)
    x12_line_break = fields.Selection(
        LINE_BREAKS, string="Line Break", default="lf", help="Written after each terminator."
    )
    x12_usage_indicator = fields.Char(
        "Usage Indicator (ISA15)",
        compute="_compute_x12_usage_indicator",
        help="P in production, T in test: follows the partner's environment, so a test "
        "interchange can never be mistaken for a production one.",
    )
    x12_request_ta1 = fields.Boolean(
        "Request TA1", help="ISA14 = 1: ask the partner for an interchange acknowledgement."
    )
    x12_send_997 = fields.Boolean(
        "Answer with 997", default=True, help="Send a 997 for every functional group received."
    )
    x12_send_856 = fields.Boolean(
        "Send Ship Notices (856)",
        help="Every delivery validated for this partner's customer (the partner's Contact) "
        "sends an 856 with its packages.",
    )
    x12_rules = fields.Text(
        "Partner Restrictions",
        help='JSON narrowing the standard to the partner\'s guide, e.g. {"code_lists": '
        '{"W12-01": ["CC", "BP"]}, "required": ["945:W27"], "charset": "basic", '
        '"tolerated": ["AK4:5"]}.',
    )
    x12_default_warehouse = fields.Char(
        "Default Warehouse Code", help="Used for an 846 that names no warehouse (N1*WH)."
    )
    x12_interchange_sequence_id = fields.Many2one(
        "ir.sequence", "ISA13 Sequence", readonly=True, copy=False
    )
    x12_group_sequence_id = fields.Many2one(
        "ir.sequence", "GS06 Sequence", readonly=True, copy=False
    )
    x12_set_sequence_id = fields.Many2one("ir.sequence", "ST02 Sequence", readonly=True, copy=False)

    @api.depends("environment")
    def _compute_x12_usage_indicator(self):
        for backend in self:
            backend.x12_usage_indicator = "P" if backend.environment == "production" else "T"

    @api.constrains(
        "x12_rules",
        "x12_element_separator",
        "x12_component_separator",
        "x12_segment_terminator",
    )
    def _check_x12_settings(self):
        for backend in self.filtered(lambda b: b.adapter == "x12_sftp"):
            try:
                backend._x12_rules()
            except (ValueError, TypeError) as error:
                raise ValidationError(
                    self.env._(
                        "Partner Restrictions of %(name)s must be JSON like "
                        '{"code_lists": {"W12-01": ["CC"]}}: %(error)s',
                        name=backend.name,
                        error=error,
                    )
                ) from None
            separators = [
                backend.x12_element_separator,
                backend.x12_component_separator,
                backend.x12_segment_terminator,
            ]
            if len(set(separators)) != 3 or any(not s or s.isalnum() for s in separators):
                raise ValidationError(
                    self.env._(
                        "The separators of %(name)s must be three different special characters.",
                        name=backend.name,
                    )
                )

    def _x12_rules(self):
        self.ensure_one()
        data = json.loads(self.x12_rules) if self.x12_rules else {}
        if not isinstance(data, dict):
            raise ValueError("an object is expected")
        data.setdefault("versions", [self.x12_version or "004010"])
        return PartnerRules.from_dict(data)

    def _x12_delimiters(self):
        self.ensure_one()
        return Delimiters(
            self.x12_element_separator or "*",
            self.x12_component_separator or ">",
            self.x12_segment_terminator or "~",
        )

    def _x12_line_break(self):
        return LINE_BREAK_CHOICES[self.x12_line_break or "lf"]

    _X12_SEQUENCES = (
        ("x12_interchange_sequence_id", "ISA13"),
        ("x12_group_sequence_id", "GS06"),
        ("x12_set_sequence_id", "ST02"),
    )

    @api.model_create_multi
    def create(self, vals_list):
        backends = super().create(vals_list)
        backends.filtered(lambda b: b.adapter == "x12_sftp")._x12_ensure_sequences()
        return backends

    def write(self, vals):
        result = super().write(vals)
        if vals.get("adapter") == "x12_sftp":
            self._x12_ensure_sequences()
        return result

    def _x12_ensure_sequences(self):
        """The partner's control number sequences: PostgreSQL sequences (implementation
        "standard"), so a number drawn is never drawn again, even when the transaction that
        drew it rolls back or another worker draws at the same moment."""
        for backend in self:
            for field_name, label in self._X12_SEQUENCES:
                if backend[field_name]:
                    continue
                backend.sudo()[field_name] = (
                    self.env["ir.sequence"]
                    .sudo()
                    .create(
                        {
                            "name": f"{backend.name} {label}",
                            "code": f"logistics.x12.{label.lower()}",
                            "implementation": "standard",
                            "padding": 0,
                            "company_id": backend.company_id.id,
                        }
                    )
                )

    def _x12_next_control_numbers(self):
        """(ISA13, GS06, ST02) drawn from the partner's sequences."""
        self.ensure_one()
        if not all(self[field_name] for field_name, _label in self._X12_SEQUENCES):
            # made, committed and drawn from on their own: a sequence created inside a send
            # attempt that then rolls back would start again at 1 and reuse numbers (and this
            # transaction's snapshot may not see a sequence committed after it began)
            with autonomous_cursor(self.env) as cr:
                backend = self.with_env(self.env(cr=cr))
                backend._x12_ensure_sequences()
                return backend._x12_draw()
        return self._x12_draw()

    def _x12_draw(self):
        numbers = []
        for field_name, label in self._X12_SEQUENCES:
            number = int(self[field_name].sudo().next_by_id())
            if number >= 10**9:
                raise ValidationError(
                    self.env._(
                        "The %(label)s sequence of %(name)s is exhausted (9 digits).",
                        label=label,
                        name=self.name,
                    )
                )
            numbers.append(number)
        return tuple(numbers)

    @api.model
    @api.model
    def _demo_connect_sandboxes(self, sftp_connection_file):
        self._x12_connect_demo_sftp(sftp_connection_file)
        return super()._demo_connect_sandboxes(sftp_connection_file)

    def _x12_connect_demo_sftp(self, connection_file):
        """Point the demo EDI partner at the demo SFTP server, whose keys are new at every
        start (``connection.json`` written by ``python -m tests.sandboxes``). Demo only."""
        with open(connection_file, encoding="utf-8") as handle:
            connection = json.load(handle)
        with open(connection["client_key"], encoding="utf-8") as handle:
            private_key = handle.read()
        backend = self.env.ref("logistics_connector_edi.demo_backend_edi", raise_if_not_found=False)
        if not backend:
            return False
        backend.endpoint_ids.filtered(lambda e: e.environment == "test").write(
            {
                "sftp_host": connection["host"],
                "sftp_port": connection["port"],
                "sftp_username": connection["username"],
                "sftp_private_key": private_key,
                "sftp_host_key": connection["host_key"],
            }
        )
        files = self.env.ref(
            "logistics_connector_edi.demo_backend_edi_flow_files", raise_if_not_found=False
        )
        if files:
            files.mode = "batch"
        return True

    @api.model
    def _logistics_transport_kind(self, adapter):
        if adapter == "x12_sftp":
            return "sftp"
        return super()._logistics_transport_kind(adapter)
