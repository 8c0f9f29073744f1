from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..const import DELIVERY_TYPE


class LogisticsCarrierFallback(models.Model):
    """A re-routing rule of a shipping method: when all its conditions hold for a delivery,
    the delivery is shipped with the alternate shipping method (another carrier, or another
    service of the same one). Rules are tried in sequence; the first that holds wins."""

    _name = "logistics.carrier.fallback"
    _description = "Shipping Method Fallback Rule"
    _order = "carrier_id, sequence, id"

    carrier_id = fields.Many2one(
        "delivery.carrier", string="Shipping Method", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="carrier_id.company_id", store=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    alternate_carrier_id = fields.Many2one(
        "delivery.carrier",
        string="Ship With",
        required=True,
        ondelete="cascade",
        domain=[("delivery_type", "=", DELIVERY_TYPE)],
        help="The shipping method used instead when the conditions hold.",
    )
    when_carrier_down = fields.Boolean(
        string="Carrier Unavailable",
        help="The shipping method's carrier account has its circuit breaker open (the carrier "
        "failed several times in a row).",
    )
    weight_above = fields.Float(
        string="Weight Above (kg)", help="The delivery weighs more than this. 0: any weight."
    )
    country_ids = fields.Many2many(
        "res.country", string="Destinations", help="The customer is in one of these countries."
    )

    @api.constrains("carrier_id", "alternate_carrier_id")
    def _check_alternate(self):
        for rule in self:
            if rule.alternate_carrier_id == rule.carrier_id:
                raise ValidationError(
                    self.env._("A fallback rule must ship with another shipping method.")
                )

    def _holds_for(self, picking, weight_kg):
        """Whether every condition set on the rule holds for the delivery; the reason, said
        in plain words, or False."""
        self.ensure_one()
        reasons = []
        if self.when_carrier_down:
            backend = self.carrier_id.sudo().logistics_backend_id
            if not backend or not backend._breaker_wait_seconds():
                return False
            reasons.append(self.env._("%(carrier)s is unavailable", carrier=backend.name))
        if self.weight_above:
            if weight_kg <= self.weight_above:
                return False
            reasons.append(
                self.env._(
                    "it weighs %(weight).2f kg (over %(limit).2f kg)",
                    weight=weight_kg,
                    limit=self.weight_above,
                )
            )
        if self.country_ids:
            country = picking.partner_id.country_id
            if country not in self.country_ids:
                return False
            reasons.append(self.env._("it goes to %(country)s", country=country.name))
        return ", ".join(reasons) or self.env._("the rule always applies")
