import json
import re

from odoo import Command, api, fields, models
from odoo.addons.logistics_connector_base.lib.errors import ConfigurationError
from odoo.addons.logistics_connector_base.models.db_tools import autonomous_cursor
from odoo.exceptions import ValidationError

from ..const import CHARSETS, DEFAULT_SET_MAPPINGS, LINE_BREAKS, TOLERABLE_ERRORS, X12_SETS
from ..x12 import Delimiters, PartnerRules
from ..x12.serializer import LINE_BREAK_CHOICES

# what the restrictions JSON names: "W12-01" (code lists), "W27", "W06-04", "945:W27" (required)
CODE_LIST_KEY = re.compile(r"[A-Za-z0-9]{2,3}-\d{1,2}")
REQUIRED_ITEM = re.compile(r"(?:(?P<set>\d{3}):)?[A-Za-z0-9]{2,3}(?:-\d{1,2})?$")


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
        [("004010", "004010"), ("005010", "005010")],
        default="004010",
        help="GS08 of what we send (a 005010 group travels in a 00501 envelope); what we "
        "receive must be in this version.",
    )
    x12_element_separator = fields.Char("Element Separator", default="*", size=1)
    x12_component_separator = fields.Char("Component Separator", default=">", size=1)
    x12_segment_terminator = fields.Char("Segment Terminator", default="~", size=1)
    x12_repetition_separator = fields.Char(
        "Repetition Separator",
        default="^",
        size=1,
        help="ISA11 of a 00501 interchange (version 005010); 004010 has none.",
    )
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
    x12_set_mapping_ids = fields.One2many(
        "logistics.x12.set.mapping",
        "backend_id",
        "Transaction Sets",
        copy=True,
        context={"active_test": False},
        help="Which set feeds which flow (received) and which set each flow is sent as. A set "
        "received without an active line is refused with a 997 saying it is not supported.",
    )
    x12_restriction_ids = fields.One2many(
        "logistics.x12.restriction",
        "backend_id",
        "Partner Restrictions",
        copy=True,
        context={"active_test": False},
        help="The partner's implementation guide narrowing the standard: code lists, "
        "mandatory segments or elements, errors it tolerates. Checked on what we send and "
        "what we receive.",
    )
    x12_charset = fields.Selection(
        CHARSETS,
        "Character Set",
        default="extended",
        help="Characters allowed in elements. Basic: no lower case (many older partners).",
    )
    x12_rules = fields.Text(
        "Restrictions as JSON",
        compute="_compute_x12_rules",
        inverse="_inverse_x12_rules",
        help='What the X12 engine reads, e.g. {"code_lists": {"W12-01": ["CC", "BP"]}, '
        '"required": ["945:W27"], "charset": "basic", "tolerated": ["AK4:5"]}. Pasting JSON '
        "here replaces the restriction lines.",
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
        "x12_element_separator",
        "x12_component_separator",
        "x12_segment_terminator",
        "x12_repetition_separator",
        "x12_version",
    )
    def _check_x12_settings(self):
        for backend in self.filtered(lambda b: b.adapter == "x12_sftp"):
            separators = [
                backend.x12_element_separator,
                backend.x12_component_separator,
                backend.x12_segment_terminator,
            ]
            if (backend.x12_version or "004010") >= "005010":
                separators.append(backend.x12_repetition_separator)
            if len(set(separators)) != len(separators) or any(
                not s or s.isalnum() for s in separators
            ):
                raise ValidationError(
                    self.env._(
                        "The separators of %(name)s must be %(count)s different special "
                        "characters (element, component, segment%(repetition)s).",
                        name=backend.name,
                        count=len(separators),
                        repetition=self.env._(", repetition") if len(separators) == 4 else "",
                    )
                )

    # ---- partner restrictions ------------------------------------------------------------------
    @api.depends(
        "x12_charset",
        "x12_restriction_ids.active",
        "x12_restriction_ids.kind",
        "x12_restriction_ids.set_id",
        "x12_restriction_ids.segment",
        "x12_restriction_ids.position",
        "x12_restriction_ids.codes",
        "x12_restriction_ids.tolerated_error",
    )
    def _compute_x12_rules(self):
        for backend in self:
            data = backend._x12_rules_data()
            data.pop("versions", None)
            backend.x12_rules = json.dumps(data, indent=1) if data else False

    def _inverse_x12_rules(self):
        for backend in self:
            data = backend._x12_rules_from_json(backend.x12_rules)
            lines = [
                {"kind": "codes", "segment": tag, "position": int(position or 0), "codes": codes}
                for tag, position, codes in (
                    (*key.partition("-")[::2], ", ".join(codes))
                    for key, codes in data.get("code_lists", {}).items()
                )
            ]
            for item in data.get("required", []):
                set_id, _sep, target = item.rpartition(":")
                tag, _sep, position = target.partition("-")
                lines.append(
                    {
                        "kind": "required",
                        "set_id": set_id or False,
                        "segment": tag,
                        "position": int(position or 0),
                    }
                )
            lines += [{"kind": "tolerated", "tolerated_error": code} for code in data["tolerated"]]
            values = {"x12_restriction_ids": [Command.clear()]}
            values["x12_restriction_ids"] += [Command.create(line) for line in lines]
            if data.get("charset"):
                values["x12_charset"] = data["charset"]
            backend.write(values)

    def _x12_rules_from_json(self, text):
        """The restrictions JSON checked for shape (the lines check the content), in plain
        words when it is not what the engine reads."""
        example = '{"code_lists": {"W12-01": ["CC"]}, "required": ["945:W27"]}'

        def refuse(problem):
            return ValidationError(
                self.env._(
                    "Partner Restrictions of %(name)s must be JSON like %(example)s: %(problem)s",
                    name=self.name,
                    example=example,
                    problem=problem,
                )
            )

        try:
            data = json.loads(text) if text and text.strip() else {}
        except ValueError as error:
            raise refuse(error) from None
        if not isinstance(data, dict):
            raise refuse(self.env._("an object {...} is expected"))
        unknown = set(data) - {"code_lists", "required", "tolerated", "charset", "versions"}
        if unknown:
            raise refuse(self.env._("unknown key(s) %(keys)s", keys=", ".join(sorted(unknown))))
        code_lists = data.get("code_lists") or {}
        if not isinstance(code_lists, dict) or not all(
            isinstance(v, list) and all(isinstance(c, str) for c in v) for v in code_lists.values()
        ):
            raise refuse(self.env._('"code_lists" maps "W12-01" to a list of codes'))
        for key in ("required", "tolerated"):
            value = data.get(key) or []
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise refuse(self.env._('"%(key)s" is a list of texts', key=key))
        bad_key = next((k for k in code_lists if not CODE_LIST_KEY.fullmatch(k)), None)
        if bad_key:
            raise refuse(
                self.env._(
                    '%(key)s: a code list is for "SEGMENT-position", e.g. W12-01', key=bad_key
                )
            )
        for item in data.get("required") or []:
            match = REQUIRED_ITEM.match(item)
            if not match or match["set"] not in (None, *dict(X12_SETS)):
                raise refuse(
                    self.env._(
                        '%(item)s: "required" lists segments or elements like W27, W06-04 or '
                        "945:W27 (in a set this addon knows)",
                        item=item,
                    )
                )
        unknown_errors = set(data.get("tolerated") or []) - set(dict(TOLERABLE_ERRORS))
        if unknown_errors:
            raise refuse(
                self.env._(
                    "%(codes)s cannot be tolerated; tolerable are %(known)s",
                    codes=", ".join(sorted(unknown_errors)),
                    known=", ".join(dict(TOLERABLE_ERRORS)),
                )
            )
        charset = data.get("charset")
        if charset and charset not in dict(CHARSETS):
            raise refuse(self.env._('"charset" is "basic" or "extended"'))
        return {
            "code_lists": code_lists,
            "required": data.get("required") or [],
            "tolerated": data.get("tolerated") or [],
            "charset": charset,
        }

    def _x12_rules_data(self):
        """The restriction lines as the engine's configuration (``PartnerRules.from_dict``)."""
        self.ensure_one()
        lines = self.x12_restriction_ids.filtered("active")
        data = {}
        if self.x12_charset and self.x12_charset != "extended":
            data["charset"] = self.x12_charset
        codes = lines.filtered(lambda line: line.kind == "codes")
        if codes:
            data["code_lists"] = {line._engine_key(): line._code_list() for line in codes}
        required = lines.filtered(lambda line: line.kind == "required")
        if required:
            data["required"] = [line._engine_key() for line in required]
        tolerated = lines.filtered(lambda line: line.kind == "tolerated")
        if tolerated:
            data["tolerated"] = sorted({line.tolerated_error for line in tolerated})
        return data

    def _x12_rules(self):
        self.ensure_one()
        data = self._x12_rules_data()
        data["versions"] = [self.x12_version or "004010"]
        return PartnerRules.from_dict(data)

    # ---- transaction set mapping -------------------------------------------------------------
    def _x12_ensure_set_mappings(self):
        """The standard mapping (const.DEFAULT_SET_MAPPINGS) for a partner that has none yet."""
        for backend in self:
            if backend.with_context(active_test=False).x12_set_mapping_ids:
                continue
            backend.sudo().x12_set_mapping_ids = [
                Command.create(
                    {"direction": direction, "set_id": set_id, "flow": flow, "sequence": index}
                )
                for index, (direction, set_id, flow) in enumerate(DEFAULT_SET_MAPPINGS)
            ]

    def _x12_active_mappings(self, direction):
        return self.sudo().x12_set_mapping_ids.filtered(
            lambda m: m.active and m.direction == direction
        )

    def _x12_flow_of_set(self, set_id):
        """The flow a received ``set_id`` feeds for this partner, or None (not mapped)."""
        self.ensure_one()
        mapping = self._x12_active_mappings("inbound").filtered(lambda m: m.set_id == set_id)
        return mapping[:1].flow or None

    def _x12_set_of_flow(self, flow):
        """The set this partner receives ``flow``'s messages as; ConfigurationError when none."""
        self.ensure_one()
        mapping = self._x12_active_mappings("outbound").filtered(lambda m: m.flow == flow)
        if not mapping:
            flows = dict(self.env["logistics.x12.set.mapping"]._selection_flow())
            raise ConfigurationError(
                self.env._(
                    "%(partner)s has no transaction set for %(flow)s messages: add a Sent line "
                    "for this flow under Transaction Sets on its EDI tab (e.g. Order Release -> "
                    "940), then retry.",
                    partner=self.name,
                    flow=flows.get(flow, flow),
                )
            )
        return mapping[:1].set_id

    def _x12_delimiters(self):
        self.ensure_one()
        return Delimiters(
            self.x12_element_separator or "*",
            self.x12_component_separator or ">",
            self.x12_segment_terminator or "~",
            # from 00501 on ISA11 is the repetition separator (the engine picks the envelope)
            (self.x12_repetition_separator or "^")
            if (self.x12_version or "004010") >= "005010"
            else None,
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
        partners = backends.filtered(lambda b: b.adapter == "x12_sftp")
        partners._x12_ensure_sequences()
        partners._x12_ensure_set_mappings()
        return backends

    def write(self, vals):
        result = super().write(vals)
        if vals.get("adapter") == "x12_sftp":
            self._x12_ensure_sequences()
            self._x12_ensure_set_mappings()
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
    def _demo_connect_sandboxes(self, sftp_connection_file):
        self._demo_connect_sftp_partner(
            "logistics_connector_edi.demo_backend_edi",
            "logistics_connector_edi.demo_backend_edi_flow_files",
            sftp_connection_file,
        )
        return super()._demo_connect_sandboxes(sftp_connection_file)

    @api.model
    def _logistics_transport_kind(self, adapter):
        if adapter == "x12_sftp":
            return "sftp"
        return super()._logistics_transport_kind(adapter)
