from odoo import api, fields, models

from ..const import MAPPING_TYPES
from ..lib.errors import ConfigurationError


class MappingMissingError(ConfigurationError):
    """A flow needs a mapping nobody has entered yet."""

    def __init__(self, message, mapping_type, value, side=None):
        super().__init__(
            message, details={"mapping_type": mapping_type, "value": value, "side": side}
        )
        self.mapping_type = mapping_type
        self.value = value
        # "odoo": the Odoo value has no partner value; "partner": the other way round.
        self.side = side


class LogisticsMapping(models.Model):
    """A value map between Odoo and one partner, typed (warehouse, carrier service, status
    code...). Import and export it as CSV from the list view."""

    _name = "logistics.mapping"
    _description = "Logistics Mapping"
    _inherit = ["logistics.audited.mixin"]
    _order = "backend_id, mapping_type, sequence, odoo_value"
    _rec_name = "odoo_value"

    backend_id = fields.Many2one(
        "logistics.backend", string="Partner", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    mapping_type = fields.Selection(MAPPING_TYPES, string="Type", required=True, index=True)
    sequence = fields.Integer(
        default=10, help="When several partner values map to one Odoo value, the first is sent."
    )
    odoo_value = fields.Char(
        required=True,
        help="The value in Odoo: warehouse short name, product internal "
        "reference, unit name, carrier name, state code...",
    )
    partner_value = fields.Char(required=True, help="The same value as the partner spells it.")
    note = fields.Char()
    active = fields.Boolean(default=True)

    _sql_constraints = [
        (
            "partner_value_uniq",
            "unique(backend_id, mapping_type, partner_value)",
            "This partner value is already mapped for this partner and type.",
        ),
    ]

    @api.model
    def _lookup(self, backend, mapping_type, odoo_value=None, partner_value=None):
        domain = [("backend_id", "=", backend.id), ("mapping_type", "=", mapping_type)]
        if odoo_value is not None:
            domain.append(("odoo_value", "=", odoo_value))
        else:
            domain.append(("partner_value", "=", partner_value))
        return self.search(domain, limit=1)

    @api.model
    def _missing_error(self, backend, mapping_type, value, side):
        label = dict(MAPPING_TYPES)[mapping_type]
        if side == "odoo":
            text = self.env._(
                "No %(type)s mapping for the Odoo value '%(value)s' on partner %(partner)s: add "
                "it in Logistics > Configuration > Mappings, then retry.",
                type=label,
                value=value,
                partner=backend.name,
            )
        else:
            text = self.env._(
                "No %(type)s mapping for the partner value '%(value)s' sent by %(partner)s: add "
                "it in Logistics > Configuration > Mappings, then retry.",
                type=label,
                value=value,
                partner=backend.name,
            )
        return MappingMissingError(text, mapping_type, value, side)
