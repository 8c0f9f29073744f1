import logging
from concurrent.futures import ThreadPoolExecutor

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..const import DELIVERY_TYPE

_logger = logging.getLogger(__name__)

# Carriers asked at once: each call waits on its carrier, not on the machine.
PARALLEL_RATES = 4


class LogisticsRateShopping(models.TransientModel):
    """Compare the rates of every shipping method that can carry a sale order, pick the
    cheapest, the fastest or the cheapest arriving by a promised date, and add it to the order.
    One carrier failing shows its reason on its line; the others' rates still show."""

    _name = "logistics.rate.shopping"
    _description = "Compare Shipping Rates"

    order_id = fields.Many2one("sale.order", required=True, ondelete="cascade")
    criterion = fields.Selection(
        [
            ("cheapest", "Cheapest"),
            ("fastest", "Fastest"),
            ("promise", "Cheapest arriving by the promised date"),
        ],
        default="cheapest",
        required=True,
    )
    promise_date = fields.Date(string="Promised Date")
    carrier_ids = fields.Many2many(
        "delivery.carrier",
        string="Shipping Methods",
        help="The methods to compare. Empty: every method available for the order.",
    )
    line_ids = fields.One2many("logistics.rate.shopping.line", "wizard_id", string="Rates")
    chosen_line_id = fields.Many2one(
        "logistics.rate.shopping.line", compute="_compute_chosen_line_id", string="Best Rate"
    )

    @api.depends("criterion", "promise_date", "line_ids.price", "line_ids.delivery_days")
    def _compute_chosen_line_id(self):
        for wizard in self:
            wizard.chosen_line_id = wizard._best(wizard.line_ids)

    def _best(self, lines):
        usable = lines.filtered("success")
        if self.criterion == "fastest":
            usable = usable.filtered("delivery_days")
            return min(usable, key=lambda line: (line.delivery_days, line.price), default=False)
        if self.criterion == "promise" and self.promise_date:
            usable = usable.filtered(
                lambda line: line.delivery_date and line.delivery_date <= self.promise_date
            )
        return min(usable, key=lambda line: line.price, default=False)

    @api.model
    def _candidate_carriers(self, order):
        given = self.env.context.get("logistics_rate_carrier_ids")
        if given:  # a rule limited to some methods
            return self.env["delivery.carrier"].browse(given)
        carriers = self.env["delivery.carrier"].search(
            [("company_id", "in", [False, order.company_id.id])]
        )
        return carriers.available_carriers(order.partner_shipping_id, order)

    def action_compare(self):
        self.ensure_one()
        carriers = self.carrier_ids or self._candidate_carriers(self.order_id)
        if not carriers:
            raise UserError(self.env._("No shipping method can carry this order."))
        results = self._rates(self.order_id, carriers)
        self.line_ids = [(5, 0, 0)] + [
            (0, 0, self._line_values(carrier, result)) for carrier, result in results
        ]
        return self._reopen()

    def _rates(self, order, carriers):
        """(carrier, rate_shipment answer) for each carrier, asked in parallel when the server
        allows it (each call in a transaction of its own: one slow carrier costs its own
        time, not the sum)."""
        if self.env.registry.in_test_mode() or len(carriers) == 1:
            return [(carrier, self._safe_rate(carrier, order)) for carrier in carriers]
        self.env.flush_all()
        registry, uid, context = self.env.registry, self.env.uid, dict(self.env.context)

        def ask(carrier_id):
            with registry.cursor() as cr:
                env = api.Environment(cr, uid, context)
                carrier = env["delivery.carrier"].browse(carrier_id)
                return self._safe_rate(carrier, env["sale.order"].browse(order.id))

        with ThreadPoolExecutor(max_workers=PARALLEL_RATES) as pool:
            answers = list(pool.map(ask, carriers.ids))
        return list(zip(carriers, answers, strict=True))

    @api.model
    def _safe_rate(self, carrier, order):
        try:
            return carrier.rate_shipment(order)
        except Exception as error:  # one carrier failing must not hide the others
            _logger.info("Rate of %s failed: %s", carrier.name, error)
            return {"success": False, "price": 0.0, "error_message": str(error)}

    def _line_values(self, carrier, result):
        return {
            "carrier_id": carrier.id,
            "success": bool(result.get("success")),
            "price": result.get("price") or 0.0,
            "delivery_days": result.get("logistics_delivery_days") or 0,
            "delivery_date": result.get("logistics_delivery_date") or False,
            "message": result.get("error_message") or result.get("warning_message") or False,
        }

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Compare Shipping Rates"),
        }

    def action_apply(self):
        """Add the best rate (by the chosen criterion) to the order as its delivery line."""
        self.ensure_one()
        line = self.chosen_line_id
        if not line:
            raise UserError(
                self.env._("No rate fits: compare again, or choose another criterion or date.")
            )
        return line.action_choose()


class LogisticsRateShoppingLine(models.TransientModel):
    _name = "logistics.rate.shopping.line"
    _description = "Shipping Rate"
    _order = "success desc, price"

    wizard_id = fields.Many2one("logistics.rate.shopping", required=True, ondelete="cascade")
    carrier_id = fields.Many2one("delivery.carrier", string="Shipping Method", required=True)
    is_connector = fields.Boolean(compute="_compute_is_connector")
    success = fields.Boolean()
    price = fields.Float(digits="Product Price")
    delivery_days = fields.Integer(string="Days")
    delivery_date = fields.Date(string="Expected Delivery")
    message = fields.Char()

    def _compute_is_connector(self):
        for line in self:
            line.is_connector = line.carrier_id.delivery_type == DELIVERY_TYPE

    def action_choose(self):
        self.ensure_one()
        if not self.success:
            raise UserError(
                self.env._("This shipping method gave no rate: %(why)s", why=self.message)
            )
        order = self.wizard_id.order_id
        order.set_delivery_line(self.carrier_id, self.price)
        order.message_post(
            body=self.env._(
                "Shipping method chosen by comparing rates: %(method)s, %(price).2f.",
                method=self.carrier_id.name,
                price=self.price,
            )
        )
        return {"type": "ir.actions.act_window_close"}
