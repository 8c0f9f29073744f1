import hashlib
import json
import time
import uuid

from odoo import api, fields, models
from odoo.addons.logistics_connector_base.models.db_tools import autonomous_cursor
from odoo.exceptions import UserError

from ..const import (
    DEFAULT_RATE_CACHE_SECONDS,
    DELIVERY_TYPE,
    LABEL_FORMATS,
)


class DeliveryCarrier(models.Model):
    """Shipping methods whose carrier is a logistics partner (delivery type "Logistics
    Connector"). Odoo's provider hooks, each an exchange of the base pipeline:

    - ``logistics_rate_shipment(order)``: rates, answered from a recent identical request when
      there is one (rate cache);
    - ``logistics_send_shipping(pickings)``: one label per package, bought while the user waits
      or from the job queue, never twice (one idempotency key per picking and package);
    - ``logistics_get_tracking_link(picking)``: the carrier's tracking pages, no API call;
    - ``logistics_cancel_shipment(pickings)``: refunds the labels;
    - ``logistics_get_return_label(pickings, tracking_number, origin_date)``: a return label.
    """

    _inherit = "delivery.carrier"

    delivery_type = fields.Selection(
        selection_add=[(DELIVERY_TYPE, "Logistics Connector")],
        ondelete={
            DELIVERY_TYPE: lambda recs: recs.write({"delivery_type": "fixed", "fixed_price": 0})
        },
    )
    logistics_backend_id = fields.Many2one(
        "logistics.backend",
        string="Carrier Account",
        domain=[("kind", "=", "carrier")],
        ondelete="restrict",
        help="The logistics partner (kind Carrier) that rates, sells labels and tracks parcels. "
        "Its endpoints hold the Test and Production credentials; the Environment button of this "
        "shipping method must match its environment.",
    )
    logistics_carrier_code = fields.Char(
        string="Carrier", help="The carrier at the partner, e.g. USPS or UPS. Empty: any carrier."
    )
    logistics_service = fields.Char(
        string="Service", help="The service level, e.g. Priority or Ground. Empty: the cheapest."
    )
    logistics_label_mode = fields.Selection(
        [
            ("sync", "While the user waits (queued if the carrier is slow or down)"),
            ("queue", "Always from the job queue"),
        ],
        string="Label Purchase",
        default="sync",
        required=True,
        help="While the user waits: the label is bought when the delivery is validated, within "
        "the deadline; a slow or unreachable carrier does not block the validation, the label "
        "follows from the job queue. Always from the job queue: validation never waits.",
    )
    logistics_sync_deadline = fields.Float(
        string="Wait for the Carrier (s)",
        help="How long a validation waits for a label. 0: the partner's Synchronous Deadline.",
    )
    logistics_label_format = fields.Selection(LABEL_FORMATS, string="Label Format", default="PDF")
    logistics_tracking = fields.Selection(
        [("webhook", "Webhooks (real time)"), ("poll", "Polling (scheduled)")],
        string="Tracking Updates",
        default="webhook",
        help="Webhooks: the carrier posts each scan. Polling: a scheduled action asks the "
        "carrier for parcels not yet in a final state.",
    )
    logistics_rate_cache_seconds = fields.Integer(
        string="Keep Rates (s)",
        default=DEFAULT_RATE_CACHE_SECONDS,
        help="The same order asked again within this time is answered without calling the "
        "carrier. 0: always ask.",
    )
    logistics_fallback_ids = fields.One2many(
        "logistics.carrier.fallback",
        "carrier_id",
        string="Fallback Rules",
        help="Ship with another method when the carrier is unavailable, the delivery is heavy "
        "or goes to some countries. The first rule that holds wins.",
    )
    logistics_notify_in_transit = fields.Boolean(string="Email: In transit")
    logistics_notify_out_for_delivery = fields.Boolean(string="Email: Out for delivery")
    logistics_notify_delivered = fields.Boolean(string="Email: Delivered", default=True)
    logistics_notify_failed_attempt = fields.Boolean(string="Email: Failed attempt", default=True)

    def _compute_can_generate_return(self):
        result = super()._compute_can_generate_return()
        for carrier in self.filtered(lambda c: c.delivery_type == DELIVERY_TYPE):
            carrier.can_generate_return = True
        return result

    def toggle_prod_environment(self):
        """The shipping method and its carrier account switch environment together."""
        result = super().toggle_prod_environment()
        for carrier in self.filtered(lambda c: c.delivery_type == DELIVERY_TYPE):
            backend = carrier.logistics_backend_id
            wanted = "production" if carrier.prod_environment else "test"
            if backend and backend.environment != wanted:
                backend.environment = wanted
        return result

    # ------------------------------------------------------------------------------------------
    # Hooks
    # ------------------------------------------------------------------------------------------
    def logistics_rate_shipment(self, order):
        self.ensure_one()
        try:
            backend = self._logistics_backend()
            document = self._logistics_document(
                reference=f"rate-{order.name}".replace("/", "-"),
                ship_from=order.warehouse_id.partner_id or order.company_id.partner_id,
                ship_to=order.partner_shipping_id,
                lines=order.order_line.filtered(
                    lambda line: not line.is_delivery and line.product_id
                ),
                weight=self._logistics_order_weight(order),
                warehouse=order.warehouse_id,
            )
        except UserError as error:
            return self._logistics_no_rate(str(error))
        outcome = self._logistics_exchange(
            backend, "rate", order, document, self._rate_key(document)
        )
        if not outcome.done:
            self._logistics_forget(outcome.message_id, release_key=True)
            return self._logistics_no_rate(
                self.env._(
                    "%(carrier)s gave no rate: %(error)s",
                    carrier=backend.name,
                    error=outcome.error or self.env._("no answer in time"),
                )
            )
        rate = self._logistics_choose_rate((outcome.answer or {}).get("rates") or [])
        if rate is None:
            return self._logistics_no_rate(
                self.env._(
                    "%(carrier)s offers no %(service)s service for this order.",
                    carrier=backend.name,
                    service=self._logistics_service_label(),
                )
            )
        company = order.company_id or self.env.company
        price = self._logistics_to_company_currency(rate["amount"], rate["currency"], company)
        return {
            "success": True,
            "price": price,
            "error_message": False,
            "warning_message": False,
            # Read by the rate comparison (Odoo passes extra keys through).
            "logistics_delivery_days": rate.get("delivery_days") or 0,
            "logistics_delivery_date": (rate.get("delivery_date") or "")[:10] or False,
        }

    def logistics_send_shipping(self, pickings):
        self.ensure_one()
        given = self.env.context.get("logistics_shipping_results") or {}
        return [given.get(picking.id) or self._logistics_ship(picking) for picking in pickings]

    def logistics_get_tracking_link(self, picking):
        labels = picking.logistics_label_ids.filtered(
            lambda lab: lab.state == "bought" and not lab.is_return and lab.tracking_url
        )
        if len(labels) == 1:
            return labels.tracking_url
        if labels:
            return json.dumps([[label.tracking_number, label.tracking_url] for label in labels])
        if self.tracking_url and picking.carrier_tracking_ref:
            return self.tracking_url.replace(
                "<shipmenttrackingnumber>", picking.carrier_tracking_ref
            )
        return False

    def logistics_cancel_shipment(self, pickings):
        backend = self._logistics_backend()
        messages = self.env["logistics.message"].sudo()
        for picking in pickings:
            for label in picking.logistics_label_ids.filtered(
                lambda lab: lab.state in ("pending", "bought")
            ):
                if label.state == "pending":
                    self._logistics_forget(label.message_id.id)
                    label.write({"state": "cancelled"})
                    continue
                document = self._logistics_cancel_document(label)
                outcome = self._logistics_exchange(
                    backend, "label_cancel", picking, document, f"refund:{label.shipment_ref}"
                )
                if not outcome.done:
                    raise UserError(
                        self.env._(
                            "The label %(tracking)s could not be cancelled: %(error)s",
                            tracking=label.tracking_number,
                            error=outcome.error or self.env._("the carrier did not answer in time"),
                        )
                    )
                label.write({"state": "cancelled", "delivery_state": "cancelled"})
            picking.logistics_label_revision += 1
        return messages

    def logistics_get_return_label(self, pickings, tracking_number=None, origin_date=None):
        backend = self._logistics_backend()
        for picking in pickings:
            key = f"return_label:{picking.id}:{picking.logistics_label_revision}"
            document = self._logistics_document(
                reference=f"{picking.name}-return-{picking.logistics_label_revision}".replace(
                    "/", "-"
                ),
                ship_from=picking.partner_id,
                ship_to=picking.picking_type_id.warehouse_id.partner_id
                or picking.company_id.partner_id,
                lines=picking.move_ids,
                weight=picking._get_estimated_weight() or picking.shipping_weight,
                warehouse=picking.picking_type_id.warehouse_id,
                is_return=True,
            )
            label = self.env["logistics.carrier.label"]._for_purchase(
                self, picking, key, package_name=self.env._("Return"), is_return=True
            )
            outcome = self._logistics_exchange(backend, "label", picking, document, key)
            if not outcome.done:
                raise UserError(
                    self.env._(
                        "No return label from %(carrier)s: %(error)s",
                        carrier=backend.name,
                        error=outcome.error or self.env._("the carrier did not answer in time"),
                    )
                )
            label._apply_purchase(outcome.answer)
        return True

    # ------------------------------------------------------------------------------------------
    # Shipping
    # ------------------------------------------------------------------------------------------
    def _logistics_ship(self, picking):
        """Buy one label per package of the picking. Returns Odoo's {exact_price,
        tracking_number}; a label the carrier has not sold yet follows from the job queue."""
        backend = self._logistics_backend()
        package_type = self.env["stock.package.type"]
        packages = self._get_packages_from_picking(picking, package_type)
        labels = self.env["logistics.carrier.label"]
        pending = []
        queued = False
        for sequence, package in enumerate(packages, 1):
            name = package.name or str(sequence)
            key = f"label:{picking.id}:{name}:{picking.logistics_label_revision}"
            reference = f"{picking.name}-{sequence}"
            if picking.logistics_label_revision:
                reference += f"-r{picking.logistics_label_revision}"
            document = self._logistics_document(
                reference=reference.replace("/", "-"),
                ship_from=picking.picking_type_id.warehouse_id.partner_id
                or picking.company_id.partner_id,
                ship_to=picking.partner_id,
                lines=picking.move_ids.filtered(lambda move: move.state != "cancel"),
                weight=package.weight,
                warehouse=picking.picking_type_id.warehouse_id,
                package=package,
                sequence=sequence,
            )
            bought = picking.logistics_label_ids.filtered(
                lambda lab, seq=sequence, pack=package.name: (
                    lab.state == "bought"
                    and not lab.is_return
                    and (lab.sequence, lab.package_name or None) == (seq, pack or None)
                )
            )
            if bought:  # bought before (e.g. the labels of the other packages are retried)
                labels |= bought[:1]
                continue
            first = labels.filtered(lambda lab: lab.state == "bought")[:1]
            if first:
                # Carriers with multi-parcel shipments chain the later parcels to the first.
                document["extensions"]["master_tracking_number"] = (
                    first.master_tracking_number or first.tracking_number
                )
            label = self.env["logistics.carrier.label"]._for_purchase(
                self, picking, key, package_name=package.name, sequence=sequence
            )
            labels |= label
            if label.state == "bought":
                continue
            if self.logistics_label_mode == "queue":
                self.env["logistics.message"].sudo()._create_outbound(
                    backend, "label", picking, document=document, idempotency_key=key
                )
                queued = True
                continue
            outcome = self._logistics_exchange(backend, "label", picking, document, key)
            if outcome.done:
                label._apply_purchase(outcome.answer)
            elif outcome.state in ("failed", "dead"):
                # The carrier refused the parcel: the validation stops with what to fix.
                raise UserError(
                    self.env._(
                        "%(carrier)s refused the label of %(picking)s: %(error)s",
                        carrier=backend.name,
                        picking=picking.name,
                        error=outcome.error,
                    )
                )
            else:
                label.write({"error": outcome.error})
                pending.append(outcome.error or self.env._("no answer in time"))
        if pending:
            self._logistics_report_pending(picking, backend, pending)
        elif not queued:
            self._logistics_close_pending_notice(picking)
        bought = labels.filtered(lambda lab: lab.state == "bought")
        if bought and self.return_label_on_delivery and not pending and not queued:
            self.get_return_label(picking)
        return {
            "exact_price": bought._cost_in(
                picking.company_id.currency_id, picking.company_id, fields.Date.today()
            )
            if bought
            else picking.carrier_price,
            "tracking_number": ",".join(bought.mapped("tracking_number")) or False,
        }

    def _logistics_report_pending(self, picking, backend, reasons):
        self.env["logistics.exception"].raise_exception(
            "service_unavailable",
            self.env._("Label of %(picking)s follows later", picking=picking.name),
            self.env._(
                "%(carrier)s did not sell the label while %(picking)s was validated "
                "(%(reason)s). The delivery is validated; the job queue buys the label as soon as "
                "the carrier answers, and this exception closes by itself then. Do not ship the "
                "parcel without its label.",
                carrier=backend.name,
                picking=picking.name,
                reason="; ".join(reasons),
            ),
            backend=backend,
            record=picking,
            severity="medium",
            correlation_id=picking._logistics_correlation(),
            dedup_key=f"label_pending:{picking.id}",
        )

    @api.model
    def _logistics_label_bought_later(self, message):
        """The job queue bought a label (or a return label) after its picking was validated."""
        picking = message._get_document()
        if not picking or picking._name != "stock.picking":
            return
        carrier = picking.carrier_id
        document = message.canonical_payload or {}
        extensions = document.get("extensions") or {}
        label = self.env["logistics.carrier.label"]._for_purchase(
            carrier,
            picking,
            message.idempotency_key,
            package_name=extensions.get("package"),
            sequence=extensions.get("sequence") or 1,
            is_return=bool(extensions.get("is_return")),
        )
        if label.state == "bought":
            return
        label._apply_purchase(message.response_payload or {})
        if not label.is_return and picking.state == "done":
            picking._logistics_labels_arrived(label)
        if not picking.logistics_labels_pending:
            self._logistics_close_pending_notice(picking)

    def _logistics_reroute(self, picking):
        """The shipping method a delivery goes with after the fallback rules, and why: (self,
        False) when no rule holds. Rules chain (an alternate may have rules of its own), never
        in a loop."""
        method, reasons, seen = self, [], set()
        while method.id not in seen:
            seen.add(method.id)
            weight = method._logistics_weight_kg(picking.shipping_weight or picking.weight)
            for rule in method.sudo().logistics_fallback_ids.filtered("active"):
                reason = rule._holds_for(picking, weight)
                if reason:
                    reasons.append(
                        self.env._(
                            "%(from)s -> %(to)s: %(reason)s",
                            **{"from": method.name, "to": rule.alternate_carrier_id.name},
                            reason=reason,
                        )
                    )
                    method = rule.alternate_carrier_id.with_env(self.env)
                    break
            else:
                break
        return method, "; ".join(reasons) or False

    @api.model
    def _logistics_close_pending_notice(self, picking):
        """The "label follows later" exception of a picking closes once no label waits."""
        open_ones = (
            self.env["logistics.exception"]
            .sudo()
            .search(
                [
                    ("dedup_key", "=", f"label_pending:{picking.id}"),
                    ("state", "in", ("new", "in_progress")),
                ]
            )
        )
        if open_ones:
            open_ones._close(
                "resolved",
                self.env._("The carrier sold the label of %(picking)s.", picking=picking.name),
            )

    @api.model
    def _logistics_label_failed(self, message):
        """The queue gave up on a label: the label says why, and the "follows later" notice
        closes (the message's own exception tells what to fix)."""
        label = (
            self.env["logistics.carrier.label"]
            .sudo()
            .search(
                [
                    ("backend_id", "=", message.backend_id.id),
                    ("idempotency_key", "=", message.idempotency_key),
                    ("state", "=", "pending"),
                ],
                limit=1,
            )
        )
        if not label:
            return
        label.write({"state": "failed", "error": message.error_message})
        label.picking_id.message_post(
            body=self.env._(
                "The carrier did not sell the label of package %(package)s: %(error)s",
                package=label.package_name or label.sequence,
                error=message.error_message,
            )
        )
        pending = (
            self.env["logistics.exception"]
            .sudo()
            .search(
                [
                    ("dedup_key", "=", f"label_pending:{label.picking_id.id}"),
                    ("state", "in", ("new", "in_progress")),
                ]
            )
        )
        if pending:
            pending._close(
                "resolved",
                self.env._("The label will not follow: %(error)s", error=message.error_message),
            )

    # ------------------------------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------------------------------
    def _logistics_backend(self):
        self.ensure_one()
        # Whoever ships or quotes uses the account; only Logistics people see its settings.
        backend = self.sudo().logistics_backend_id
        if not backend:
            raise UserError(
                self.env._(
                    "The shipping method %(name)s has no Carrier Account: choose one on its form.",
                    name=self.name,
                )
            )
        wanted = "production" if self.prod_environment else "test"
        if backend.environment != wanted:
            raise UserError(
                self.env._(
                    "The shipping method %(name)s is in %(wanted)s mode but its carrier account "
                    "%(backend)s is set to %(actual)s: switch the Environment of the shipping "
                    "method (it switches the account too).",
                    name=self.name,
                    wanted=wanted,
                    backend=backend.name,
                    actual=backend.environment,
                )
            )
        return backend

    def _logistics_exchange(self, backend, flow, record, document, key):
        """One exchange while the user waits, through the base pipeline; the request and the
        answer are also logged when the shipping method's debug logging is on (the pipeline
        masks secrets)."""
        # The pipeline's own rights: people never write messages themselves (the base's
        # jobs run the same way), whoever asks for the rate or validates the delivery.
        outcome = (
            self.env["logistics.message"]
            .sudo()
            ._exchange_now(
                backend,
                flow,
                record,
                document=document,
                idempotency_key=key,
                deadline=self.logistics_sync_deadline or None,
            )
        )
        if self.debug_logging:
            answer = outcome.answer
            if isinstance(answer, dict) and answer.get("label_base64"):
                answer = dict(answer, label_base64=f"<{len(answer['label_base64'])} base64 chars>")
            self.log_xml(
                backend._masked_text(
                    json.dumps(
                        {
                            "flow": flow,
                            "key": key,
                            "request": document,
                            "state": outcome.state,
                            "answer": answer,
                            "error": outcome.error,
                        },
                        default=str,
                    )
                ),
                f"logistics_{flow}",
            )
        return outcome

    def _logistics_forget(self, message_id, release_key=False):
        """An exchange nobody waits for any more (a rate, a cancelled label): the queue must
        not make it later. ``release_key``: a rate that failed does not stand for the next
        identical request (only answers are kept as the rate cache)."""
        if not message_id:
            return
        with autonomous_cursor(self.env) as cr:
            cr.execute(
                "UPDATE logistics_message SET state = 'cancelled', next_attempt_at = NULL "
                "WHERE id = %s AND state IN ('pending', 'queued', 'retry')",
                (message_id,),
            )
            if release_key:
                cr.execute(
                    "UPDATE logistics_message SET idempotency_key = idempotency_key || '#' || id "
                    "WHERE id = %s AND state IN ('cancelled', 'failed', 'dead')",
                    (message_id,),
                )

    def _rate_key(self, document):
        ttl = self.logistics_rate_cache_seconds
        digest = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:32]
        window = int(time.time() // ttl) if ttl > 0 else uuid.uuid4().hex
        return f"rate:{self.id}:{digest}:{window}"

    def _logistics_no_rate(self, text):
        return {"success": False, "price": 0.0, "error_message": text, "warning_message": False}

    def _logistics_service_label(self):
        return " ".join(filter(None, [self.logistics_carrier_code, self.logistics_service])) or (
            self.env._("matching")
        )

    def _logistics_choose_rate(self, rates):
        carrier, service = self.logistics_carrier_code, self.logistics_service
        matching = [
            rate
            for rate in rates
            if (not carrier or (rate.get("carrier") or "").lower() == carrier.lower())
            and (not service or (rate.get("service") or "").lower() == service.lower())
        ]
        return min(matching, key=lambda rate: rate["amount"]) if matching else None

    def _logistics_to_company_currency(self, amount, currency_name, company):
        currency = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "=", currency_name)], limit=1)
        )
        if not currency or currency == company.currency_id:
            return amount
        return currency._convert(amount, company.currency_id, company, fields.Date.today())

    def _logistics_order_weight(self, order):
        return self.env.context.get("order_weight") or order._get_estimated_weight()

    def _logistics_weight_kg(self, weight):
        uom = self.env["product.template"]._get_weight_uom_id_from_ir_config_parameter()
        kilogram = self.env.ref("uom.product_uom_kgm")
        return uom._compute_quantity(weight, kilogram) if uom != kilogram else weight

    def _logistics_document(
        self,
        reference,
        ship_from,
        ship_to,
        lines,
        weight,
        warehouse,
        package=None,
        is_return=False,
        sequence=1,
    ):
        """The canonical order_release/1 of one parcel: what, from where, to whom, how heavy,
        with which service; the parcel and label settings in its extensions."""
        builder = self.env["logistics.builder"]
        weight_kg = self._logistics_weight_kg(weight or 0.0)
        if weight_kg <= 0:
            raise UserError(
                self.env._(
                    "The parcel %(reference)s weighs nothing: set the products' weight or the "
                    "package's shipping weight.",
                    reference=reference,
                )
            )
        try:
            ship_to_address = builder._address(ship_to)
            ship_from_address = builder._address(ship_from)
        except Exception as error:  # BusinessError from the builder: plain words already
            raise UserError(str(error)) from None
        parcel = {"weight_kg": round(weight_kg, 3)}
        package_type = package.packaging_type if package else False
        if package_type:
            dimension = package.dimension or {}
            for side in ("length", "width", "height"):
                if dimension.get(side):
                    parcel[f"{side}_mm"] = dimension[side]
        document = {
            "schema": "order_release/1",
            "reference": reference,
            "warehouse_code": warehouse.code or "WH",
            "ship_to": ship_to_address,
            "ship_from": ship_from_address,
            "lines": [self._logistics_line(line) for line in lines]
            or [{"line_ref": "parcel", "sku": "PARCEL", "quantity": 1, "uom": "Units"}],
            "extensions": {
                "parcel": parcel,
                "label_format": self.logistics_label_format or "PDF",
                "is_return": is_return,
                "package": package.name if package else None,
                "sequence": sequence,
                "environment": "production" if self.prod_environment else "test",
                "shipping_method": self.name,
            },
        }
        if self.logistics_carrier_code:
            document["extensions"]["carrier_code"] = self.logistics_carrier_code
        if self.logistics_service:
            document["carrier"] = {
                "code": self.logistics_carrier_code or None,
                "service": self.logistics_service,
            }
        return document

    def _logistics_line(self, line):
        product = line.product_id
        quantity = line.product_uom_qty
        return {
            "line_ref": str(line.id),
            "sku": product.default_code or f"product-{product.id}",
            "description": (product.display_name or "")[:1024],
            "quantity": quantity if quantity > 0 else 1,
            "uom": (line.product_uom.name if "product_uom" in line._fields else "Units") or "Units",
        }

    def _logistics_cancel_document(self, label):
        picking = label.picking_id
        return {
            "schema": "order_release/1",
            "reference": label.shipment_ref,
            "action": "cancel",
            "warehouse_code": picking.picking_type_id.warehouse_id.code or "WH",
            "ship_to": self.env["logistics.builder"]._address(picking.partner_id),
            "lines": [{"line_ref": "parcel", "sku": "PARCEL", "quantity": 1, "uom": "Units"}],
            "extensions": {
                "shipment_id": label.shipment_ref,
                "tracking_number": label.tracking_number,
            },
        }
