from odoo import models
from odoo.exceptions import UserError


class SaleOrder(models.Model):
    _inherit = "sale.order"

    def _logistics_choose_best_rate(self, criterion="cheapest", promise_date=None):
        """Rate shopping as a rule: compare the available shipping methods and add the best by
        ``criterion`` (cheapest, fastest, promise) to each order; said on the order. Orders
        no method can carry are left as they are, with a note. Returns the orders served."""
        served = self.browse()
        for order in self.filtered(lambda o: o.state in ("draft", "sent")):
            wizard = self.env["logistics.rate.shopping"].create(
                {"order_id": order.id, "criterion": criterion, "promise_date": promise_date}
            )
            try:
                wizard.action_compare()
                wizard.action_apply()
            except UserError as error:
                order.message_post(
                    body=self.env._("No shipping method chosen automatically: %(why)s", why=error)
                )
                continue
            served |= order
        return served

    def action_logistics_choose_cheapest(self):
        self._logistics_choose_best_rate("cheapest")
        return True
