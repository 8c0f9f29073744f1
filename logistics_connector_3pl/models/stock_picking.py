import hashlib
import json

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..lib.status import IN_PROGRESS, STATUSES, may_change

# Transfers one cron run releases at most; a full batch runs the cron again.
RELEASE_BATCH = 200
RELEASE_FLOWS = ("order_release", "receipt", "return")


class StockPicking(models.Model):
    _inherit = "stock.picking"

    logistics_backend_id = fields.Many2one(
        "logistics.backend",
        string="3PL",
        copy=False,
        readonly=True,
        index="btree_not_null",
        help="The 3PL this transfer was sent to.",
    )
    logistics_status = fields.Selection(
        STATUSES,
        string="3PL Status",
        copy=False,
        readonly=True,
        index="btree_not_null",
        # Not tracked in the chatter: a status per warehouse step on every delivery would cost
        # each release and confirmation a chatter message; the messages and the audit log
        # keep the story.
        help="Where the transfer stands at its 3PL, as the 3PL reported it. Late or repeated "
        "reports never move it back.",
    )
    logistics_status_reason = fields.Char(
        string="3PL Status Reason", copy=False, readonly=True, help="Why it is on hold or blocked."
    )
    logistics_status_date = fields.Datetime(string="3PL Status Date", copy=False, readonly=True)

    # ------------------------------------------------------------------------------------------
    # Status
    # ------------------------------------------------------------------------------------------
    def _logistics_set_status(self, status, reason=None, moment=None, force=False):
        """Record what the 3PL reported, unless it is older or behind what is known; returns
        the transfers whose status changed."""
        changed = self.browse()
        moment = moment or fields.Datetime.now()
        for picking in self:
            values = picking._logistics_status_values(status, reason, moment, force)
            if values:
                picking.write(values)
                changed |= picking
        return changed

    def _logistics_status_values(self, status, reason=None, moment=None, force=False):
        """The values that record this 3PL status on the transfer, for a write that has more
        to say (each write of a transfer runs its automation rules); none when the news is
        older or behind what is known."""
        self.ensure_one()
        moment = moment or fields.Datetime.now()
        if not force and not may_change(
            self.logistics_status, self.logistics_status_date, status, moment
        ):
            return {}
        return {
            "logistics_status": status,
            "logistics_status_reason": reason or False,
            "logistics_status_date": moment,
        }

    # ------------------------------------------------------------------------------------------
    # Release (automated action, batch cron, button)
    # ------------------------------------------------------------------------------------------
    def _logistics_flow(self):
        self.ensure_one()
        if self.picking_type_code == "outgoing":
            return "order_release"
        if self.picking_type_code == "incoming":
            returned = self.move_ids.origin_returned_move_id
            return "return" if returned or self.return_id else "receipt"
        return None

    def _logistics_target(self):
        """The 3PL for this transfer: a return goes back to the 3PL that shipped the order, a
        delivery follows the routing rules, a receipt its warehouse."""
        self.ensure_one()
        if self.logistics_backend_id:
            return self.logistics_backend_id
        flow = self._logistics_flow()
        if flow == "return":
            shipped = self.move_ids.origin_returned_move_id.picking_id.logistics_backend_id
            if shipped:
                return shipped[:1]
        if flow == "order_release":
            return self.env["logistics.routing.rule"]._route(self)
        return self.picking_type_id.warehouse_id.sudo().logistics_backend_id

    def _logistics_release(self, explicit=False):
        """Send each ready transfer to its 3PL: delivery orders as order releases, receipts as
        advance shipping notices, returns as return authorizations. A transfer that is not
        complete enough is not sent: an exception says what to fix. The backorder of a
        transfer the 3PL has is the rest of the same order there: it is sent only when a
        person asks (``explicit``, e.g. the 3PL said it will not ship it). Returns the
        messages."""
        messages = self.env["logistics.message"]
        for picking in self:
            if not explicit and picking.backorder_id.logistics_backend_id:
                continue
            flow = picking._logistics_flow()
            backend = flow and picking._logistics_target()
            if not backend or picking.state in ("done", "cancel"):
                continue
            if not backend._logistics_sends(flow):
                continue  # e.g. no advance shipping notices to a flat-file 3PL
            problems = picking._logistics_release_problems(backend, flow)
            if problems:
                picking._logistics_block(backend, problems)
                continue
            message = messages._create_outbound(backend, flow, picking)
            picking.write({"logistics_backend_id": backend.id})
            if message.state not in ("failed", "dead"):
                picking._logistics_set_status("released", force=True)
                picking._logistics_close_blocks()
            messages |= message
        return messages

    def _logistics_release_problems(self, backend, flow):
        """What keeps this transfer from being sent, in plain words (empty: nothing)."""
        self.ensure_one()
        problems = []
        partner = self.partner_id
        if flow == "order_release":
            address = partner if partner.street else partner.commercial_partner_id
            missing = [
                label
                for label, value in (
                    (self.env._("street"), address.street),
                    (self.env._("city"), address.city),
                    (self.env._("ZIP code"), address.zip),
                    (self.env._("country"), address.country_id),
                )
                if not value
            ]
            if address.country_id.state_required and not address.state_id:
                missing.append(self.env._("state"))
            if not partner:
                problems.append(self.env._("It has no customer to ship to."))
            elif missing:
                problems.append(
                    self.env._(
                        "The address of %(partner)s has no %(missing)s: complete the contact.",
                        partner=address.display_name,
                        missing=", ".join(missing),
                    )
                )
            carrier = self.carrier_id
            if carrier and not self._logistics_mapped(backend, "carrier_service", carrier.name):
                problems.append(
                    self.env._(
                        "The shipping method %(carrier)s has no Carrier Service mapping for "
                        "%(partner)s: add one in Logistics > Configuration > Mappings.",
                        carrier=carrier.name,
                        partner=backend.name,
                    )
                )
            if not carrier and not backend.default_service_level and backend.adapter == "shipbob":
                problems.append(
                    self.env._(
                        "It has no shipping method and %(partner)s has no default service "
                        "level: choose a shipping method, or set the partner's default.",
                        partner=backend.name,
                    )
                )
        moves = self.move_ids.filtered(lambda m: m.state != "cancel")
        if not moves:
            problems.append(self.env._("It has no product lines."))
        unit = self.env.ref("uom.product_uom_unit")
        for move in moves:
            product = move.product_id
            if move.product_uom_qty <= 0:
                problems.append(
                    self.env._(
                        "%(product)s has a quantity of %(quantity)s: quantities must be positive.",
                        product=product.display_name,
                        quantity=move.product_uom_qty,
                    )
                )
            if not product.default_code:
                problems.append(
                    self.env._(
                        "%(product)s has no Internal Reference, so %(partner)s cannot know its "
                        "SKU: set the product's Internal Reference.",
                        product=product.display_name,
                        partner=backend.name,
                    )
                )
            if move.product_uom != unit and not self._logistics_mapped(
                backend, "uom", move.product_uom.name
            ):
                problems.append(
                    self.env._(
                        "The unit %(unit)s (of %(product)s) has no Unit of Measure mapping for "
                        "%(partner)s: add one in Logistics > Configuration > Mappings.",
                        unit=move.product_uom.name,
                        product=product.display_name,
                        partner=backend.name,
                    )
                )
        warehouse = self.picking_type_id.warehouse_id
        if not self._logistics_mapped(backend, "warehouse", warehouse.code):
            problems.append(
                self.env._(
                    "The warehouse %(code)s has no Warehouse mapping for %(partner)s: add the "
                    "partner's code for it in Logistics > Configuration > Mappings.",
                    code=warehouse.code,
                    partner=backend.name,
                )
            )
        return list(dict.fromkeys(problems))

    @api.model
    def _logistics_mapped(self, backend, mapping_type, value):
        return bool(
            self.env["logistics.mapping"].sudo()._lookup(backend, mapping_type, odoo_value=value)
        )

    def _logistics_dedup_key(self):
        return f"release_blocked:stock.picking,{self.id}"

    def _logistics_block(self, backend, problems):
        self.ensure_one()
        self._logistics_set_status("release_blocked", reason=problems[0][:200], force=True)
        self.write({"logistics_backend_id": False})
        self.env["logistics.exception"].raise_exception(
            "validation_error",
            self.env._(
                "%(picking)s was not sent to %(partner)s", picking=self.name, partner=backend.name
            ),
            self.env._(
                "%(picking)s is ready but was not sent to %(partner)s:\n%(problems)s\nFix this, "
                "then use Send to 3PL on the transfer (or wait for the next release run).",
                picking=self.name,
                partner=backend.name,
                problems="\n".join(f"- {problem}" for problem in problems),
            ),
            backend=backend,
            record=self,
            correlation_id=self._logistics_correlation(),
            dedup_key=self._logistics_dedup_key(),
        )

    def _logistics_close_blocks(self):
        blocks = (
            self.env["logistics.exception"]
            .sudo()
            .search(
                [
                    ("dedup_key", "in", [p._logistics_dedup_key() for p in self]),
                    ("state", "in", ("new", "in_progress")),
                ]
            )
        )
        if blocks:
            blocks._close("resolved", self.env._("The transfer was sent to its 3PL."))

    def action_logistics_release(self):
        """Send to 3PL (button): release what the automated action did not, e.g. after fixing
        what blocked it."""
        pickings = self.filtered(lambda p: p.state not in ("done", "cancel", "draft"))
        if not pickings:
            raise UserError(
                self.env._("Only transfers that are not done or cancelled can be sent.")
            )
        # The rest of a partly shipped order may be sent as a new order (the 3PL said it will
        # not ship it); the form asks first.
        sendable = (False, "release_blocked", "partially_shipped")
        released = pickings.filtered(lambda p: p.logistics_status not in sendable)
        if released:
            raise UserError(
                self.env._(
                    "%(pickings)s was already sent to its 3PL.",
                    pickings=", ".join(released.mapped("name")),
                )
            )
        targets = {picking: picking._logistics_target() for picking in pickings}
        missing = [picking.name for picking, backend in targets.items() if not backend]
        if missing:
            raise UserError(
                self.env._(
                    "No 3PL serves %(pickings)s: set the 3PL operating its warehouse, or a "
                    "routing rule, in Logistics > Configuration.",
                    pickings=", ".join(missing),
                )
            )
        pickings._logistics_release(explicit=True)
        return True

    @api.model
    def _cron_logistics_release_ready(self):
        """The batch path: ready transfers of 3PL warehouses not sent yet (an automated action
        switched off, a batch partner, a transfer blocked before and fixed since)."""
        pickings = self.search(
            [
                ("state", "=", "assigned"),
                ("picking_type_code", "in", ("outgoing", "incoming")),
                ("logistics_status", "in", (False, "release_blocked")),
                "|",
                ("picking_type_id.warehouse_id.logistics_backend_id", "!=", False),
                ("logistics_backend_id", "!=", False),
            ],
            order="scheduled_date, id",
            limit=RELEASE_BATCH,
        )
        pickings._logistics_release()
        if len(pickings) == RELEASE_BATCH:
            self.env.ref("logistics_connector_3pl.ir_cron_logistics_release_ready")._trigger()
        return pickings

    # ------------------------------------------------------------------------------------------
    # Changes after the release: cancellation and quantities
    # ------------------------------------------------------------------------------------------
    def _logistics_release_message(self):
        """The release this transfer went out under: its own (a backorder released again has
        one), else its first transfer's (a backorder is the rest of that 3PL order)."""
        self.ensure_one()
        messages = self.env["logistics.message"].sudo()
        flow = self._logistics_flow()
        picking = self
        while picking:
            release = messages.search(
                [
                    ("backend_id", "=", self.logistics_backend_id.id),
                    ("direction", "=", "outbound"),
                    ("flow", "=", flow),
                    ("res_model", "=", self._name),
                    ("res_id", "=", picking.id),
                    ("idempotency_key", "=like", f"{flow}:stock.picking:%"),
                ],
                order="id",
                limit=1,
            )
            if release:
                return release
            picking = picking.backorder_id
        return messages

    def action_cancel(self):
        at_3pl = self.filtered(
            lambda p: (
                p.logistics_backend_id
                and p.picking_type_code == "outgoing"
                and p.logistics_status in (*IN_PROGRESS, "partially_shipped")
            )
        )
        result = super().action_cancel()
        for picking in at_3pl.filtered(lambda p: p.state == "cancel"):
            picking._logistics_send_cancel()
        return result

    def _logistics_send_cancel(self):
        """Ask the 3PL to cancel; a release that never left Odoo is simply withdrawn."""
        self.ensure_one()
        release = self._logistics_release_message()
        if not release:
            return release  # never released: nothing to ask of the 3PL
        if release.state in ("pending", "queued") and not release.attempts:
            release.write({"state": "cancelled", "next_attempt_at": False})
            release._audit(
                "state_change",
                self.env._("%(name)s withdrawn: transfer cancelled", name=release.name),
            )
            self._logistics_set_status("cancelled", force=True)
            return release
        document = dict(release.canonical_payload or {}, action="cancel")
        document.pop("correlation_id", None)
        message = self.env["logistics.message"]._create_outbound(
            self.logistics_backend_id,
            "order_release",
            self,
            document=document,
            idempotency_key=f"order_release:cancel:{self.id}",
        )
        self._logistics_set_status("cancel_requested", force=True)
        return message

    def _logistics_propagate_change(self):
        """The lines of a released delivery changed before it shipped: send the new lines. The
        3PL decides whether it is too late (ShipBob: once picked), and its refusal opens an
        exception."""
        builder = self.env["logistics.builder"]
        for picking in self:
            if (
                picking.picking_type_code != "outgoing"
                or picking.logistics_status not in IN_PROGRESS
                or picking.state in ("done", "cancel")
            ):
                continue
            release = picking._logistics_release_message()
            if not release:
                continue
            backend = picking.logistics_backend_id
            problems = picking._logistics_release_problems(backend, "order_release")
            if problems:
                picking._logistics_block(backend, problems)
                continue
            document = builder._build("order_release", picking, backend)
            if release.state in ("pending", "queued") and not release.attempts:
                # Not sent yet: it goes out with the new lines.
                release.write({"canonical_payload": document})
                continue
            if (release.canonical_payload or {}).get("lines") == document["lines"]:
                continue
            lines = json.dumps(document["lines"], sort_keys=True).encode()
            document["action"] = "update"
            self.env["logistics.message"]._create_outbound(
                backend,
                "order_release",
                picking,
                document=document,
                idempotency_key=f"order_release:update:{picking.id}:"
                + hashlib.sha256(lines).hexdigest()[:16],
            )

    def button_validate(self):
        # Validating splits moves (backorders): that is no change to send to the 3PL.
        return super(StockPicking, self.with_context(logistics_no_propagate=True)).button_validate()
