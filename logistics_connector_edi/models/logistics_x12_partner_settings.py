import functools
import re

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..const import (
    DOCUMENT_BY_FLOW,
    DOCUMENT_BY_SET,
    INBOUND_SETS,
    OUTBOUND_SETS,
    RESTRICTION_KINDS,
    TOLERABLE_ERRORS,
    X12_SETS,
)
from ..x12 import default_registry, sets_005010
from ..x12.dictionary_004010 import SEGMENTS_BY_TAG

SEGMENT_TAG = re.compile(r"[A-Z][A-Z0-9]{1,2}")


@functools.cache
def _registry():
    return default_registry()


class LogisticsX12SetMapping(models.Model):
    """Which transaction set a trading partner exchanges for which flow: inbound, the flow a
    received set feeds (a set without a line is refused with a 997 saying it is not
    supported); outbound, the set written for a flow's messages."""

    _name = "logistics.x12.set.mapping"
    _description = "X12 Transaction Set Mapping"
    _order = "backend_id, direction, sequence, id"
    _rec_name = "set_id"

    backend_id = fields.Many2one(
        "logistics.backend", "Partner", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    direction = fields.Selection(
        [("inbound", "Received"), ("outbound", "Sent")], required=True, default="inbound"
    )
    set_id = fields.Selection(X12_SETS, "Transaction Set", required=True)
    flow = fields.Selection(
        "_selection_flow",
        required=True,
        help="Received: the flow the set's messages are filed under (its settings on the Flows "
        "tab apply). Sent: the flow whose messages are written as this set.",
    )

    @api.model
    def _selection_flow(self):
        flows = self.env["logistics.message"]._fields["flow"]._description_selection(self.env)
        return [(code, label) for code, label in flows if code in DOCUMENT_BY_FLOW]

    @api.constrains("direction", "set_id", "flow", "active", "backend_id")
    def _check_mapping(self):
        flows = dict(self._selection_flow())
        for mapping in self:
            set_name = dict(X12_SETS)[mapping.set_id]
            if mapping.direction == "outbound" and mapping.set_id not in OUTBOUND_SETS:
                raise ValidationError(
                    self.env._(
                        "%(set)s is a set partners send to us; the sets we write are 940, 943, "
                        "856 and 997.",
                        set=set_name,
                    )
                )
            if mapping.direction == "inbound" and mapping.set_id not in INBOUND_SETS:
                raise ValidationError(
                    self.env._(
                        "%(set)s is a set we send; the sets we read are 945, 944, 846, 214, 210 "
                        "and 997.",
                        set=set_name,
                    )
                )
            if DOCUMENT_BY_SET[mapping.set_id] != DOCUMENT_BY_FLOW.get(mapping.flow):
                raise ValidationError(
                    self.env._(
                        "%(set)s cannot carry the flow %(flow)s: choose a flow of the same kind "
                        "of document (e.g. 945 -> Shipment Confirmation, 214 -> Tracking Event).",
                        set=set_name,
                        flow=flows.get(mapping.flow, mapping.flow),
                    )
                )
            if not mapping.active:
                continue
            key = "set_id" if mapping.direction == "inbound" else "flow"
            clash = self.search_count(
                [
                    ("id", "!=", mapping.id),
                    ("backend_id", "=", mapping.backend_id.id),
                    ("direction", "=", mapping.direction),
                    (key, "=", mapping[key]),
                ],
                limit=1,
            )
            if clash:
                raise ValidationError(
                    self.env._(
                        "%(partner)s already has an active line for %(what)s: a received set "
                        "feeds one flow and a flow is sent as one set. Archive the other line "
                        "first.",
                        partner=mapping.backend_id.name,
                        what=set_name
                        if mapping.direction == "inbound"
                        else flows.get(mapping.flow, mapping.flow),
                    )
                )


class LogisticsX12Restriction(models.Model):
    """One rule of a partner's implementation guide narrowing the X12 standard: an element
    that may only carry some codes, a segment or element made mandatory, or an error the
    partner tolerates (the set is then "accepted with errors" instead of rejected)."""

    _name = "logistics.x12.restriction"
    _description = "X12 Partner Restriction"
    _order = "backend_id, sequence, id"

    backend_id = fields.Many2one(
        "logistics.backend", "Partner", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    kind = fields.Selection(RESTRICTION_KINDS, required=True, default="codes")
    set_id = fields.Selection(
        X12_SETS,
        "Only in Set",
        help="Mandatory lines: only in this transaction set; empty: in every set using the "
        "segment. Code lists apply in every set.",
    )
    segment = fields.Char(help="Segment ID, e.g. W12.")
    position = fields.Integer(
        "Element", help="Element position in the segment (W12-01 is 1); 0: the whole segment."
    )
    codes = fields.Char(
        "Allowed Codes", help="The only codes accepted, separated by spaces or commas: CC, BP."
    )
    tolerated_error = fields.Selection(TOLERABLE_ERRORS)
    note = fields.Char(help="Where the partner's guide says so, for the next person.")

    @api.model_create_multi
    def create(self, vals_list):
        return super().create([self._normalized(vals) for vals in vals_list])

    def write(self, vals):
        return super().write(self._normalized(vals))

    @api.model
    def _normalized(self, vals):
        if vals.get("segment"):
            vals = dict(vals, segment=vals["segment"].strip().upper())
        return vals

    @api.depends("kind", "segment", "position", "set_id", "codes", "tolerated_error")
    def _compute_display_name(self):
        for line in self:
            line.display_name = line._engine_key() or line.kind or ""

    def _code_list(self):
        return [code for code in re.split(r"[\s,;]+", self.codes or "") if code]

    def _target(self):
        target = (self.segment or "").strip().upper()
        if self.position:
            target += f"-{self.position:02d}"
        return target

    def _engine_key(self):
        """What the engine reads: "W12-01" (code lists), "945:W27" (mandatory), "AK4:5"."""
        if self.kind == "tolerated":
            return self.tolerated_error or ""
        if self.kind == "required" and self.set_id:
            return f"{self.set_id}:{self._target()}"
        return self._target()

    @api.constrains("kind", "segment", "position", "set_id", "codes", "tolerated_error")
    def _check_restriction(self):
        for line in self:
            problem = line._problem()
            if problem:
                raise ValidationError(
                    self.env._(
                        "Partner restriction of %(partner)s (%(line)s): %(problem)s",
                        partner=line.backend_id.name,
                        line=line._engine_key() or line.kind,
                        problem=problem,
                    )
                )
            if line.kind == "codes" and line.active:
                twin = self.search_count(
                    [
                        ("id", "!=", line.id),
                        ("backend_id", "=", line.backend_id.id),
                        ("kind", "=", "codes"),
                        ("segment", "=", line.segment),
                        ("position", "=", line.position),
                    ],
                    limit=1,
                )
                if twin:
                    raise ValidationError(
                        self.env._(
                            "%(partner)s has two code lists for %(element)s: keep all its "
                            "codes on one line.",
                            partner=line.backend_id.name,
                            element=line._target(),
                        )
                    )

    def _problem(self):
        """What is wrong with this line, in words, or None."""
        if self.kind == "tolerated":
            if not self.tolerated_error:
                return self.env._("choose the error the partner tolerates.")
            if self.segment or self.position or self.codes:
                return self.env._(
                    "a tolerated error applies to the whole file: leave segment, element and "
                    "codes empty."
                )
            return None
        tag = (self.segment or "").strip().upper()
        if not tag:
            return self.env._("fill in the segment ID (e.g. W12).")
        if not SEGMENT_TAG.fullmatch(tag):
            return self.env._("%(tag)s is not a segment ID (2 or 3 capitals or digits).", tag=tag)
        version = self.backend_id.x12_version or "004010"
        segment = SEGMENTS_BY_TAG.get(tag)
        if segment is not None and version == sets_005010.VERSION:
            # As the partner's edition defines it (e.g. N4 has a seventh element in 005010).
            segment = sets_005010.CHANGES.segment(segment)
        if segment is None or tag not in _registry().known_tags():
            return self.env._(
                "%(tag)s is not a segment of any set this addon reads or writes.", tag=tag
            )
        if self.position < 0 or self.position > len(segment.elements):
            return self.env._(
                "%(tag)s has %(count)s elements: element %(position)s does not exist.",
                tag=tag,
                count=len(segment.elements),
                position=self.position,
            )
        element = segment.elements[self.position - 1] if self.position else None
        if self.kind == "required":
            if self.codes:
                return self.env._("a mandatory line takes no codes: add a separate code list line.")
            if self.set_id:
                spec = _registry().find(self.set_id, version)
                if spec is not None and tag not in spec.tags():
                    return self.env._(
                        "the %(set)s has no %(tag)s segment.",
                        set=dict(X12_SETS)[self.set_id],
                        tag=tag,
                    )
            return None
        # code list
        if self.set_id:
            return self.env._("a code list applies in every set: leave Only in Set empty.")
        if element is None:
            return self.env._("a code list is for one element: fill in its position (W12-01 is 1).")
        if element.components:
            return self.env._(
                "%(tag)s-%(position)02d (%(name)s) is a composite: codes restrict a simple "
                "element.",
                tag=tag,
                position=self.position,
                name=element.name,
            )
        codes = self._code_list()
        if not codes:
            return self.env._("list the allowed codes, separated by spaces or commas.")
        for code in codes:
            if not element.min_length <= len(code) <= element.max_length:
                return self.env._(
                    "%(code)s does not fit %(name)s (%(min)s to %(max)s characters).",
                    code=code,
                    name=element.name,
                    min=element.min_length,
                    max=element.max_length,
                )
            if not re.fullmatch(r"[A-Za-z0-9]+", code):
                return self.env._("%(code)s: codes are letters and digits only.", code=code)
        return None
