from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import float_compare

from ..const import REMAINDER_POLICIES


class LogisticsBackend(models.Model):
    """What a partner's shipment, receipt and inventory documents do to Odoo's stock when they
    do not match what Odoo expected."""

    _inherit = "logistics.backend"

    partial_shipment_policy = fields.Selection(
        REMAINDER_POLICIES,
        required=True,
        default="backorder",
        help="When the partner ships less than a delivery order asks: keep the rest in a "
        "backorder (the partner ships it later under the same order), or cancel it (the partner "
        "never ships the rest of an order).",
    )
    partial_receipt_policy = fields.Selection(
        REMAINDER_POLICIES,
        required=True,
        default="backorder",
        help="When the partner receives less than a receipt expects: keep the rest in a "
        "backorder (more may arrive), or cancel it.",
    )
    inventory_policy = fields.Selection(
        [
            ("report_only", "Report only"),
            ("adjust_within_tolerance", "Adjust within tolerance"),
            ("exception", "Exception for every difference"),
        ],
        required=True,
        default="report_only",
        help="What an inventory snapshot from the partner does. Report only: a reconciliation "
        "report, nothing else. Adjust within tolerance: Odoo's stock is adjusted to the "
        "partner's count where they differ by no more than the tolerance, and larger "
        "differences open an exception. Exception for every difference: nothing is adjusted; "
        "any difference opens an exception.",
    )
    inventory_tolerance = fields.Float(
        default=0.0,
        help="Largest difference adjusted without asking anyone, in units or in percent of "
        "Odoo's quantity.",
    )
    inventory_tolerance_type = fields.Selection(
        [("units", "Units"), ("percent", "% of Odoo's quantity")],
        string="Tolerance In",
        required=True,
        default="units",
    )

    @api.constrains("inventory_tolerance")
    def _check_inventory_tolerance(self):
        for backend in self:
            if backend.inventory_tolerance < 0:
                raise ValidationError(
                    self.env._(
                        "The inventory tolerance of %(partner)s cannot be negative.",
                        partner=backend.name,
                    )
                )

    def _inventory_within_tolerance(self, odoo_quantity, difference, rounding):
        """Whether a difference between the partner's count and Odoo's is small enough to be
        adjusted without a person; a percent tolerance is of Odoo's quantity, so nothing is
        within a percent of nothing."""
        self.ensure_one()
        if self.inventory_tolerance_type == "percent":
            allowed = abs(odoo_quantity) * self.inventory_tolerance / 100.0
        else:
            allowed = self.inventory_tolerance
        return float_compare(abs(difference), allowed, precision_rounding=rounding) <= 0
