"""Appliers of what a warehouse partner reports: shipments, receipts, inventory and returns.

They know canonical documents and Odoo's stock, never a protocol: a 3PL REST adapter and an X12
adapter feed them the same documents. Each one only touches transfers that were exchanged with
the partner that sent the document, applies a document once (the partner's document reference
is kept on the transfer or the report), and raises a classified error, before or after any
change, when it cannot apply a document: the pipeline rolls the attempt back.
"""

from collections import defaultdict

from odoo import api, models
from odoo.tools import SQL, float_compare, float_is_zero

from ..lib.errors import BusinessError, ConfigurationError
from .logistics_mapping import MappingMissingError
from .logistics_registry import to_utc_naive

# What a warehouse did with returned goods (return/1 "disposition"): back to stock, thrown
# away, or still held by the partner waiting for a decision (anything else).
RESTOCK_DISPOSITIONS = ("restock",)
SCRAP_DISPOSITIONS = ("damaged", "dispose")
# Exceptions list at most this many lines; the report or the transfer has them all.
MAX_LISTED_LINES = 20
OPEN_PICKING_STATES = ("draft", "waiting", "confirmed", "assigned")


class LogisticsApplier(models.AbstractModel):
    _inherit = "logistics.applier"

    # ------------------------------------------------------------------------------------------
    # Shipment: a delivery order released to the partner was shipped
    # ------------------------------------------------------------------------------------------
    @api.model
    def _apply_shipment(self, message, document):
        """Validate the delivery order the partner shipped with the quantities, lots and
        tracking numbers it reports. Partial shipments continue in the backorder; a shipment
        already applied changes nothing."""
        backend = message.backend_id
        release = self._find_released(message, ("order_release",), document["order_reference"])
        original = self._picking_of(release)
        if not original:
            raise BusinessError(
                self.env._(
                    "Shipment %(shipment)s is for order %(order)s, but no delivery order with "
                    "that reference was released to %(partner)s: nothing was changed. Ask the "
                    "partner which order it shipped; an order released to another partner is "
                    "confirmed by that partner only.",
                    shipment=document["reference"],
                    order=document["order_reference"],
                    partner=backend.name,
                )
            )
        original = original.with_company(message.company_id)
        label = self.env._(
            "Shipment %(shipment)s of %(order)s",
            shipment=document["reference"],
            order=original.name,
        )
        self._link_message(message, original, release)
        family = self._picking_family(original)
        released = self._released_lines(release, original)
        lines = self._shipment_lines(message, document, released, label)
        shipped = self._sum_by_product(lines)
        target = self._target_picking(family, document["reference"], shipped, label)
        if not target:
            return original  # already applied: nothing changes
        if all(
            float_is_zero(qty, precision_rounding=p.uom_id.rounding) for p, qty in shipped.items()
        ):
            if document.get("status") == "complete":
                self._raise_for_person(
                    "partial_shipment",
                    self.env._("%(label)s: nothing shipped", label=label),
                    self.env._(
                        "%(partner)s reports %(order)s complete without shipping anything. "
                        "Nothing was changed in Odoo: ask the partner whether it will ship, then "
                        "cancel the delivery order or release it again.",
                        partner=backend.name,
                        order=target.name,
                    ),
                    message,
                    target,
                )
            return target
        parts = self._parts_by_move(target, lines, label)
        tracking = self._tracking_values(target, document)
        if tracking and "carrier_id" in target._fields and target.carrier_id:
            # Before validation: validating a transfer with a carrier (stock_delivery) buys
            # its label unless it has a tracking number, and the partner already sent it.
            target.write(tracking)
            tracking = {}
        self._fill_picking(target, parts)
        backorder = self._validate(
            target, keep_rest=backend.partial_shipment_policy == "backorder", label=label
        )
        # Otherwise with the partner's date: one write of the transfer instead of two.
        self._stamp_done(
            target,
            to_utc_naive(document["shipped_at"]),
            document["reference"],
            {**tracking, **self._shipped_values(message, target, document)},
        )
        # The message belongs to the transfer it validated: a backorder's parcels are then
        # known to have been exchanged with this partner (tracking events find them).
        self._link_message(message, target, release)
        self._check_shipped(message, document, label, family | backorder, released, target)
        return target

    @api.model
    def _shipped_values(self, message, picking, document):
        """Values for the delivery order the shipment validated, written with its date and
        reference (one write of the transfer, each write runs its automation rules): a
        connector adds its own, e.g. the partner's status of the order."""
        return {}

    @api.model
    def _shipment_lines(self, message, document, released, label):
        """The document's lines with their product, quantity in the product's unit and the
        lots or serials they carry. A line names its order line (line_ref, the stock move we
        sent) or only a SKU, which must then be one the order asked for."""
        released_products = {entry["move"].product_id for entry in released.values()}
        lines = []
        for line in document["lines"]:
            line_ref = line.get("line_ref")
            if line_ref:
                entry = released.get(line_ref)
                if not entry:
                    raise BusinessError(
                        self.env._(
                            "%(label)s has a line %(line)s (SKU %(sku)s) that the order did not "
                            "have: nothing was changed. Ask the partner to correct the shipment.",
                            label=label,
                            line=line_ref,
                            sku=line["sku"],
                        )
                    )
                product = entry["move"].product_id
                if (
                    line["sku"] != entry["sku"]
                    and self._product_for_sku(message, line["sku"], missing_ok=True) != product
                ):
                    raise BusinessError(
                        self.env._(
                            "%(label)s: line %(line)s was released as SKU %(released)s but was "
                            "shipped as SKU %(sku)s. Nothing was changed: ask the partner which "
                            "product it shipped.",
                            label=label,
                            line=line_ref,
                            released=entry["sku"],
                            sku=line["sku"],
                        )
                    )
            else:
                product = self._product_for_sku(message, line["sku"])
                if product not in released_products:
                    raise BusinessError(
                        self.env._(
                            "%(label)s ships SKU %(sku)s (%(product)s), which the order did not "
                            "ask for: nothing was changed. Ask the partner to correct the "
                            "shipment.",
                            label=label,
                            sku=line["sku"],
                            product=product.display_name,
                        )
                    )
            quantity = self._product_quantity(
                message, product, line["quantity_shipped"], line.get("uom")
            )
            lines.append(
                {
                    "product": product,
                    "line_ref": line_ref,
                    "quantity": quantity,
                    "parts": self._tracked_parts(
                        product, quantity, line.get("lot"), line.get("serials"), label
                    ),
                }
            )
        return lines

    @api.model
    def _released_lines(self, release, picking):
        """line_ref -> what the order release asked for: the move, its SKU and the ordered
        quantity in the product's unit. Without a stored document (it never went out whole),
        the moves of the delivery order stand for it."""
        document = release.canonical_payload
        entries = {}
        if isinstance(document, dict) and document.get("lines"):
            refs = [str(line.get("line_ref") or "") for line in document["lines"]]
            # One query for all the order's moves (and their products after it), not one each.
            moves = self.env["stock.move"].browse([int(ref) for ref in refs if ref.isdigit()])
            existing = {move.id: move for move in moves.exists()}
            for ref, line in zip(refs, document["lines"], strict=True):
                move = existing.get(int(ref)) if ref.isdigit() else None
                if not move:
                    continue
                entries[ref] = {
                    "move": move,
                    "sku": line.get("sku"),
                    "ordered": move.product_uom._compute_quantity(
                        line["quantity"], move.product_id.uom_id
                    ),
                }
            return entries
        for move in picking.move_ids.filtered(lambda m: m.state != "cancel"):
            entries[str(move.id)] = {
                "move": move,
                "sku": move.product_id.default_code,
                "ordered": move.product_qty,
            }
        return entries

    @api.model
    def _tracking_values(self, picking, document):
        """The shipment's tracking numbers for the transfer (nothing when it has none)."""
        numbers = list(document.get("tracking_numbers") or [])
        for package in document.get("packages") or []:
            number = package.get("tracking_number")
            if number and number not in numbers:
                numbers.append(number)
        if not numbers:
            return {}
        values = {"logistics_tracking_ref": numbers[0]}
        # Odoo's own field (stock_delivery) when installed.
        if "carrier_tracking_ref" in picking._fields:
            values["carrier_tracking_ref"] = ",".join(numbers)
        return values

    @api.model
    def _check_shipped(self, message, document, label, family, released, picking):
        """After a shipment: an order the partner calls complete with less than ordered, or
        any product shipped beyond its order, needs a person."""
        ordered = defaultdict(float)
        for entry in released.values():
            ordered[entry["move"].product_id] += entry["ordered"]
        shipped = self._done_quantities(family)
        short, over = [], []
        for product, quantity in ordered.items():
            difference = float_compare(
                shipped.get(product, 0.0), quantity, precision_rounding=product.uom_id.rounding
            )
            line = self._quantity_line(product, quantity, shipped.get(product, 0.0))
            if difference < 0:
                short.append(line)
            elif difference > 0:
                over.append(line)
        backorder = family.filtered(lambda p: p.state in OPEN_PICKING_STATES)
        complete = document.get("status") == "complete"
        # Short and nothing left to wait for: the partner called it complete, or the rest
        # was cancelled (partial-shipment setting) even though more was to come.
        if short and (complete or not backorder):
            if backorder:
                rest = self.env._(
                    "The rest waits in %(backorder)s, which the partner will not ship: release "
                    "it again, or cancel it if the customer no longer needs it.",
                    backorder=", ".join(backorder.mapped("name")),
                )
            else:
                rest = self.env._(
                    "The rest was cancelled (partner setting): create a new delivery for the "
                    "customer if they still need it."
                )
            facts = {
                "partner": message.backend_id.name,
                "order": picking.name,
                "lines": self._listed(short),
                "rest": rest,
            }
            description = (
                self.env._(
                    "%(partner)s reports %(order)s complete, but shipped less than ordered "
                    "(ordered / shipped):\n%(lines)s\n%(rest)s Ask the partner why (stockout, "
                    "damage) and tell the customer.",
                    **facts,
                )
                if complete
                else self.env._(
                    "%(partner)s shipped part of %(order)s (ordered / shipped):\n%(lines)s\n"
                    "%(rest)s Ask the partner whether the rest will still ship, and tell the "
                    "customer.",
                    **facts,
                )
            )
            self._raise_for_person(
                "partial_shipment",
                self.env._("%(label)s: shipped less than ordered", label=label),
                description,
                message,
                picking,
            )
        if over:
            self._raise_for_person(
                "other",
                self.env._("%(label)s: shipped more than ordered", label=label),
                self.env._(
                    "%(partner)s shipped more than %(order)s asked for (ordered / shipped):\n"
                    "%(lines)s\nOdoo's stock now reflects what was shipped. Check with the "
                    "partner, then invoice the customer for the extra units or ask for them "
                    "back.",
                    partner=message.backend_id.name,
                    order=picking.name,
                    lines=self._listed(over),
                ),
                message,
                picking,
            )

    # ------------------------------------------------------------------------------------------
    # Receipt: goods announced to the partner were received
    # ------------------------------------------------------------------------------------------
    @api.model
    def _apply_receipt(self, message, document):
        """Validate the receipt the partner counted: good units go to stock with their lots;
        damaged, missing and extra units open exceptions that say what to check."""
        backend = message.backend_id
        if document["stage"] != "received":
            raise BusinessError(
                self.env._(
                    "%(partner)s sent receipt %(reference)s at the stage '%(stage)s': that is the "
                    "advance notice Odoo sends, not a count of what arrived. Nothing was "
                    "changed; ask the partner to send what it received.",
                    partner=backend.name,
                    reference=document["reference"],
                    stage=document["stage"],
                )
            )
        original, outbound = self._exchanged_picking(
            message, document["reference"], ("receipt",), "incoming"
        )
        if not original:
            raise BusinessError(
                self.env._(
                    "Receipt %(reference)s: no receipt with that reference was sent to "
                    "%(partner)s, so nothing was changed. Check the reference with the partner; "
                    "a receipt sent to another partner is confirmed by that partner only.",
                    reference=document["reference"],
                    partner=backend.name,
                )
            )
        key = document.get("receipt_reference") or "{}@{}".format(
            document["reference"], document["received_at"]
        )
        label = self.env._("Receipt %(receipt)s of %(picking)s", receipt=key, picking=original.name)
        self._link_message(message, original, outbound)
        family = self._picking_family(original)
        lines = self._receipt_lines(message, document, family, label)
        received = self._sum_by_product(lines)
        target = self._target_picking(family, key, received, label)
        if not target:
            return original
        expected = defaultdict(float)
        for move in target.move_ids.filtered(lambda m: m.state not in ("done", "cancel")):
            expected[move.product_id] += move.product_qty
        damaged = defaultdict(float)
        for line in lines:
            damaged[line["product"]] += line["damaged"]
        if any(
            not float_is_zero(q, precision_rounding=p.uom_id.rounding) for p, q in received.items()
        ):
            parts = self._parts_by_move(target, lines, label)
            self._fill_picking(target, parts)
            self._validate(
                target, keep_rest=backend.partial_receipt_policy == "backorder", label=label
            )
            self._stamp_done(target, to_utc_naive(document["received_at"]), key)
            self._link_message(message, target, outbound)
        self._check_received(message, label, target, expected, received, damaged)
        return target

    @api.model
    def _receipt_lines(self, message, document, family, label):
        moves = {str(move.id): move for move in family.move_ids}
        lines = []
        for line in document["lines"]:
            move = moves.get(line.get("line_ref") or "")
            product = move.product_id if move else self._product_for_sku(message, line["sku"])
            uom = line.get("uom")
            quantity = self._product_quantity(
                message, product, line.get("quantity_received") or 0.0, uom
            )
            lines.append(
                {
                    "product": product,
                    "line_ref": line.get("line_ref"),
                    "quantity": quantity,
                    "damaged": self._product_quantity(
                        message, product, line.get("quantity_damaged") or 0.0, uom
                    ),
                    "parts": self._tracked_parts(
                        product, quantity, line.get("lot"), None, label, line.get("expiry_date")
                    ),
                }
            )
        return lines

    @api.model
    def _check_received(self, message, label, picking, expected, received, damaged):
        partner = message.backend_id.name
        rest = picking.backorder_ids.filtered(lambda p: p.state in OPEN_PICKING_STATES)
        if rest:
            rest_text = self.env._(
                "Units not received in good condition are still expected in %(backorder)s: "
                "cancel it if no replacement will come.",
                backorder=", ".join(rest.mapped("name")),
            )
        elif picking.state == "done":
            rest_text = self.env._(
                "Units not received in good condition are no longer expected (partner setting)."
            )
        else:
            rest_text = self.env._(
                "Nothing was received into stock: %(picking)s stays open.", picking=picking.name
            )
        broken = [
            self._quantity_line(product, quantity)
            for product, quantity in damaged.items()
            if not float_is_zero(quantity, precision_rounding=product.uom_id.rounding)
        ]
        if broken:
            self._raise_for_person(
                "damaged_goods",
                self.env._("%(label)s: damaged goods", label=label),
                self.env._(
                    "%(partner)s received damaged units, which are not in Odoo's stock:\n"
                    "%(lines)s\n%(rest)s Check the partner's photos or report, claim from the "
                    "vendor or the carrier, and tell the partner what to do with them.",
                    partner=partner,
                    lines=self._listed(broken),
                    rest=rest_text,
                ),
                message,
                picking,
            )
        missing, extra = [], []
        for product in set(expected) | set(received):
            rounding = product.uom_id.rounding
            wanted = expected.get(product, 0.0)
            good = received.get(product, 0.0)
            if float_compare(good, wanted, precision_rounding=rounding) > 0:
                extra.append(self._quantity_line(product, wanted, good))
            elif (
                float_compare(good + damaged.get(product, 0.0), wanted, precision_rounding=rounding)
                < 0
            ):
                missing.append(self._quantity_line(product, wanted, good))
        if missing:
            self._raise_for_person(
                "partial_shipment",
                self.env._("%(label)s: less received than expected", label=label),
                self.env._(
                    "%(partner)s received less than %(picking)s expected (expected / received "
                    "in good condition):\n%(lines)s\n%(rest)s Check the vendor's packing list "
                    "and the purchase order before paying the vendor's bill.",
                    partner=partner,
                    picking=picking.name,
                    lines=self._listed(missing),
                    rest=rest_text,
                ),
                message,
                picking,
            )
        if extra:
            self._raise_for_person(
                "other",
                self.env._("%(label)s: more received than expected", label=label),
                self.env._(
                    "%(partner)s received more than %(picking)s expected (expected / "
                    "received):\n%(lines)s\nThe extra units are in Odoo's stock. Check the "
                    "vendor's packing list: keep and pay for them, or send them back.",
                    partner=partner,
                    picking=picking.name,
                    lines=self._listed(extra),
                ),
                message,
                picking,
            )

    # ------------------------------------------------------------------------------------------
    # Inventory snapshot: reconcile the partner's count with Odoo's stock
    # ------------------------------------------------------------------------------------------
    @api.model
    def _apply_inventory_snapshot(self, message, document):
        """Compare the partner's count with Odoo's stock at the moment it counted, keep a
        reconciliation report, and follow the partner's inventory policy for the differences.
        A snapshot older than one already reconciled is reported but changes nothing.

        A whole warehouse is counted at once (100,000 lines and more): products, lots and
        quants are read in a few batched queries, the adjustments applied together and the
        report's lines inserted in bulk, never one query per line."""
        backend = message.backend_id
        warehouse = self._warehouse_for_code(message, document["warehouse_code"])
        location = warehouse.lot_stock_id
        company = warehouse.company_id
        reports = self.env["logistics.inventory.report"]
        key = document.get("reference") or "{}@{}".format(
            document["warehouse_code"], document["taken_at"]
        )
        report = reports.search(
            [("backend_id", "=", backend.id), ("snapshot_key", "=", key)], limit=1
        )
        if report:
            message.write({"res_model": report._name, "res_id": report.id})
            return report
        taken_at = to_utc_naive(document["taken_at"])
        stale = bool(
            reports.search_count(
                [
                    ("backend_id", "=", backend.id),
                    ("warehouse_id", "=", warehouse.id),
                    ("taken_at", ">", taken_at),
                ],
                limit=1,
            )
        )
        complete = document.get("complete", True)
        # Keyed by (product id, lot name): a warehouse is 100,000 keys and more, records as
        # keys would be hashed (and fetched) one by one.
        counted = self._snapshot_quantities(message, document)
        product_ids = None if complete else {product_id for product_id, _lot in counted}
        in_odoo = self._odoo_quantities_at(location, taken_at, product_ids)
        name = document.get("reference") or self.env._(
            "%(warehouse)s count of %(moment)s", warehouse=warehouse.code, moment=taken_at
        )
        policy = backend.inventory_policy
        keys = sorted(set(counted) | set(in_odoo))
        facts = self._stock_facts({product_id for product_id, _lot in keys})
        rows = []
        for product_id, lot_name in keys:
            ours = in_odoo.get((product_id, lot_name), 0.0)
            theirs = counted.get((product_id, lot_name), 0.0)
            difference = theirs - ours
            _storable, tracking, rounding = facts[product_id]
            status, note = "match", False
            if not float_is_zero(difference, precision_rounding=rounding):
                status = "exception" if policy == "exception" else "difference"
                if stale:
                    status = "difference"
                    note = self.env._("Counted before a snapshot already reconciled.")
                elif policy == "adjust_within_tolerance":
                    if not backend._inventory_within_tolerance(ours, difference, rounding):
                        status = "exception"
                    elif tracking != "none" and not lot_name:
                        status = "exception"
                        note = self.env._("Tracked by lot in Odoo, counted without one.")
                    else:
                        status = "adjusted"
            rows.append((product_id, lot_name, ours, theirs, difference, status, note))
        # The products with a difference, read together (and apart from the others).
        differing = (
            self.env["product.product"]
            .browse({row[0] for row in rows if row[5] != "match"})
            .with_company(company)
        )
        products = {product.id: product for product in differing}
        to_adjust = [
            (products[product_id], lot_name, difference)
            for product_id, lot_name, _ours, _theirs, difference, status, _note in rows
            if status == "adjusted"
        ]
        if to_adjust:
            reason = self.env._("%(partner)s inventory %(name)s", partner=backend.name, name=name)
            self._adjust_stock(location, to_adjust, reason)
        # After the adjustments: they make the lots Odoo did not know.
        lots = self._lots_by_name([(row[0], row[1]) for row in rows if row[1]], company)
        line_values, to_check = [], []
        for product_id, lot_name, ours, theirs, difference, status, note in rows:
            lot = lots.get((product_id, lot_name)) if lot_name else None
            line_values.append(
                {
                    "product_id": product_id,
                    "lot_id": lot.id if lot else False,
                    "lot_name": lot_name or False,
                    "odoo_quantity": ours,
                    "partner_quantity": theirs,
                    "difference": difference,
                    "value": difference * products[product_id].standard_price
                    if status != "match"
                    else 0.0,
                    "status": status,
                    "note": note,
                }
            )
            if status == "exception":
                to_check.append((products[product_id], lot_name, ours, theirs))
        report = reports.create(
            {
                "name": name,
                "backend_id": backend.id,
                "message_id": message.id,
                "warehouse_id": warehouse.id,
                "location_id": location.id,
                "reference": document.get("reference") or False,
                "snapshot_key": key,
                "taken_at": taken_at,
                "complete": complete,
                "policy": policy,
                "stale": stale,
            }
        )
        report._insert_lines(line_values)
        message.write({"res_model": report._name, "res_id": report.id})
        if to_check:
            to_check.sort(key=lambda line: (line[0].display_name, line[1]))
            self._raise_for_person(
                "inventory_mismatch",
                self.env._(
                    "%(partner)s counts differ from Odoo in %(warehouse)s",
                    partner=backend.name,
                    warehouse=warehouse.name,
                ),
                self.env._(
                    "Inventory %(report)s: %(partner)s counted other quantities than Odoo has "
                    "(Odoo / partner):\n%(lines)s\nNothing was adjusted for these. Look for "
                    "shipments or receipts not yet confirmed, ask the partner to count again, "
                    "then adjust the stock in Inventory > Physical Inventory or correct the "
                    "partner's records.",
                    report=report.name,
                    partner=backend.name,
                    lines=self._listed(
                        [
                            self._quantity_line(product, ours, theirs, lot_name)
                            for product, lot_name, ours, theirs in to_check[:MAX_LISTED_LINES]
                        ],
                        total=len(to_check),
                    ),
                ),
                message,
                report,
                # One open mismatch per partner and warehouse: a daily snapshot with the same
                # differences counts occurrences instead of piling up.
                dedup_key=f"inventory_mismatch:{backend.id}:stock.warehouse,{warehouse.id}",
            )
        return report

    @api.model
    def _warehouse_for_code(self, message, partner_code):
        backend = message.backend_id
        mapped = backend._unmap("warehouse", partner_code, default="")
        warehouse = self.env["stock.warehouse"].search(
            [("code", "=", mapped or partner_code), ("company_id", "=", message.company_id.id)],
            limit=1,
        )
        if warehouse:
            return warehouse
        if mapped:
            raise ConfigurationError(
                self.env._(
                    "The Warehouse mapping of %(partner)s turns '%(code)s' into '%(mapped)s', but "
                    "no warehouse of %(company)s has that short name: correct the mapping in "
                    "Logistics > Configuration > Mappings, then retry.",
                    partner=backend.name,
                    code=partner_code,
                    mapped=mapped,
                    company=message.company_id.name,
                )
            )
        raise self.env["logistics.mapping"]._missing_error(
            backend, "warehouse", partner_code, "partner"
        )

    @api.model
    def _snapshot_quantities(self, message, document):
        """(product id, lot name or "") -> on hand, in the product's unit. Lots only count
        for products Odoo tracks by lot or serial."""
        product_ids = self._product_ids_for_skus(message, [i["sku"] for i in document["items"]])
        facts = self._stock_facts(set(product_ids.values()))
        counted = defaultdict(float)
        for item in document["items"]:
            product_id = product_ids[item["sku"]]
            storable, tracking, _rounding = facts[product_id]
            if not storable:
                continue
            lot_name = (item.get("lot") or "") if tracking != "none" else ""
            quantity = item["on_hand"]
            if item.get("uom") and quantity:
                product = self.env["product.product"].browse(product_id)
                quantity = self._product_quantity(message, product, quantity, item["uom"])
            counted[product_id, lot_name] += quantity
        return counted

    @api.model
    def _product_ids_for_skus(self, message, skus):
        """SKU -> product id for many SKUs in two queries, found as _product_for_sku finds
        each (a Product mapping, else the SKU as the Internal Reference; the first product
        in the products' order)."""
        backend = message.backend_id
        skus = set(skus)
        mapped = {}
        for mapping in (
            self.env["logistics.mapping"]
            .sudo()
            .search_fetch(
                [
                    ("backend_id", "=", backend.id),
                    ("mapping_type", "=", "product"),
                    ("partner_value", "in", list(skus)),
                ],
                ["partner_value", "odoo_value"],
            )
        ):
            # The first one found wins, as with _lookup's limit=1.
            mapped.setdefault(mapping.partner_value, mapping.odoo_value)
        codes = {sku: mapped.get(sku, sku) for sku in skus}
        products = self.env["product.product"].with_context(active_test=False)
        query = products._search(
            [
                ("default_code", "in", list(set(codes.values()))),
                ("company_id", "in", [False, message.company_id.id]),
            ],
            order=products._order,
        )
        self.env.cr.execute(
            query.select(
                SQL.identifier(products._table, "default_code"),
                SQL.identifier(products._table, "id"),
            )
        )
        by_code = {}
        for code, product_id in self.env.cr.fetchall():
            by_code.setdefault(code, product_id)
        found = {}
        for sku, code in codes.items():
            if code not in by_code:
                # The error _product_for_sku gives, for the first SKU Odoo does not know.
                self._product_for_sku(message, sku)
            found[sku] = by_code[code]
        return found

    @api.model
    def _stock_facts(self, product_ids):
        """product id -> (storable, tracking, unit rounding) for many products in one query.
        Read from the tables: through the ORM these are related fields of the product, each
        computed a thousand records at a time (seconds for a warehouse's products)."""
        if not product_ids:
            return {}
        self.env["product.template"].flush_model(["is_storable", "tracking", "uom_id"])
        self.env["uom.uom"].flush_model(["rounding"])
        self.env.cr.execute(
            """
            SELECT product.id, template.is_storable, template.tracking, uom.rounding
              FROM product_product product
              JOIN product_template template ON template.id = product.product_tmpl_id
              JOIN uom_uom uom ON uom.id = template.uom_id
             WHERE product.id = ANY(%s)
            """,
            [list(product_ids)],
        )
        return {
            product_id: (bool(storable), tracking, rounding)
            for product_id, storable, tracking, rounding in self.env.cr.fetchall()
        }

    @api.model
    def _lots_by_name(self, keys, company):
        """(product id, lot name) -> lot, for [(product id, lot name)], in one query."""
        if not keys:
            return {}
        lots = {}
        for lot in self.env["stock.lot"].search_fetch(
            [
                ("product_id", "in", list({product_id for product_id, _name in keys})),
                ("name", "in", list({name for _product_id, name in keys})),
                ("company_id", "in", [False, company.id]),
            ],
            ["product_id", "name"],
        ):
            lots.setdefault((lot.product_id.id, lot.name), lot)
        return lots

    @api.model
    def _odoo_quantities_at(self, location, moment, product_ids=None):
        """(product id, lot name or "") -> Odoo's quantity in ``location`` and below at
        ``moment``: today's quants minus what moved in or out since. Summed in the database
        (a warehouse's quants, as many as its products and lots)."""
        inside = self.env["stock.location"].search([("id", "child_of", location.id)]).ids
        self.env["stock.quant"].flush_model(["product_id", "lot_id", "location_id", "quantity"])
        self.env["stock.move.line"].flush_model(
            [
                *("product_id", "lot_id", "location_id", "location_dest_id"),
                *("state", "date", "quantity_product_uom"),
            ]
        )
        self.env["stock.lot"].flush_model(["name"])

        def of_products(table):
            if product_ids is None:  # a complete count: every product
                return SQL()
            return SQL("AND %s = ANY(%s)", SQL.identifier(table, "product_id"), list(product_ids))

        quantities = defaultdict(float)
        self.env.cr.execute(
            SQL(
                """
                SELECT quant.product_id, COALESCE(lot.name, ''), SUM(quant.quantity)
                  FROM stock_quant quant
                  LEFT JOIN stock_lot lot ON lot.id = quant.lot_id
                 WHERE quant.location_id = ANY(%s) %s
                 GROUP BY 1, 2
                """,
                inside,
                of_products("quant"),
            )
        )
        for product_id, lot_name, quantity in self.env.cr.fetchall():
            quantities[product_id, lot_name] += quantity
        # Moved since the count: in (+1) or out (-1) of the location, taken back.
        self.env.cr.execute(
            SQL(
                """
                SELECT line.product_id, COALESCE(lot.name, ''),
                       (line.location_dest_id = ANY(%(inside)s))::int
                       - (line.location_id = ANY(%(inside)s))::int,
                       SUM(line.quantity_product_uom)
                  FROM stock_move_line line
                  LEFT JOIN stock_lot lot ON lot.id = line.lot_id
                 WHERE line.state = 'done' AND line.date > %(moment)s
                   AND (line.location_id = ANY(%(inside)s)
                        OR line.location_dest_id = ANY(%(inside)s)) %(of_products)s
                 GROUP BY 1, 2, 3
                """,
                inside=inside,
                moment=moment,
                of_products=of_products("line"),
            )
        )
        for product_id, lot_name, change, quantity in self.env.cr.fetchall():
            if change:
                quantities[product_id, lot_name] -= change * quantity
        storable = self._stock_facts({product_id for product_id, _lot in quantities})
        return {key: quantity for key, quantity in quantities.items() if storable[key[0]][0]}

    @api.model
    def _adjust_stock(self, location, adjustments, reason):
        """Inventory adjustments the Odoo way (counted quantities, then apply) for
        [(product, lot name, difference)] on the warehouse's stock location, applied together
        as Odoo's Physical Inventory applies the quants a person selected. Lots the partner
        has and Odoo does not are made (the goods are there: traceability needs them)."""
        company = location.company_id
        lots = self._lots_by_name(
            [(p.id, name) for p, name, _difference in adjustments if name], company
        )
        missing = {
            (product.id, name)
            for product, name, _difference in adjustments
            if name and (product.id, name) not in lots
        }
        if missing:
            created = self.env["stock.lot"].create(
                [
                    {"name": name, "product_id": product_id, "company_id": company.id}
                    for product_id, name in sorted(missing)
                ]
            )
            lots.update({(lot.product_id.id, lot.name): lot for lot in created})
        quants = self.env["stock.quant"]
        existing = {}
        for quant in quants.search(
            [
                ("location_id", "=", location.id),
                ("product_id", "in", list({p.id for p, _name, _diff in adjustments})),
                ("package_id", "=", False),
                ("owner_id", "=", False),
            ],
            order="in_date, id",
        ):
            existing.setdefault((quant.product_id.id, quant.lot_id.id), quant)
        new_quants = []
        for product, name, _difference in adjustments:
            lot_id = lots[product.id, name].id if name else False
            if (product.id, lot_id) not in existing:
                new_quants.append(
                    {"product_id": product.id, "location_id": location.id, "lot_id": lot_id}
                )
        for quant in quants.create(new_quants):
            existing[quant.product_id.id, quant.lot_id.id] = quant
        to_apply = quants
        for product, name, difference in adjustments:
            quant = existing[product.id, lots[product.id, name].id if name else False]
            quant.inventory_quantity = quant.quantity + difference
            to_apply |= quant
        wizard = to_apply.with_context(inventory_name=reason).action_apply_inventory()
        if wizard:
            questioned = self.env["product.product"].browse(
                wizard.get("context", {}).get("default_product_ids")
                or self.env["stock.quant"]
                .browse(wizard.get("context", {}).get("default_quant_to_fix_ids"))
                .product_id.ids
            )
            raise BusinessError(
                self.env._(
                    "Odoo could not adjust %(products)s in %(location)s without a person "
                    "(%(question)s): adjust it in Inventory > Physical Inventory.",
                    products=", ".join(questioned[:MAX_LISTED_LINES].mapped("display_name"))
                    or self.env._("the counted products"),
                    location=location.complete_name,
                    question=wizard.get("name"),
                )
            )

    # ------------------------------------------------------------------------------------------
    # Return: a customer return the partner received and dealt with
    # ------------------------------------------------------------------------------------------
    @api.model
    def _apply_return(self, message, document):
        """Receive a completed return into the return transfer: restocked units stay in stock,
        damaged or disposed ones are scrapped, and units the partner still holds (quarantine,
        return to vendor, no decision yet) stay expected in a backorder for a person. Earlier
        statuses only link the message; a cancelled return with an open transfer asks a person."""
        backend = message.backend_id
        status = document["status"]
        original, outbound = self._return_picking(message, document)
        label = self.env._("Return %(reference)s", reference=document["reference"])
        if not original:
            if status != "completed":
                return None  # nothing to receive yet
            raise BusinessError(
                self.env._(
                    "%(label)s was completed by %(partner)s, but Odoo has no return for it that "
                    "was sent to this partner: nothing was changed. Create the return from the "
                    "delivery order (Return button)%(order)s, then retry this message.",
                    label=label,
                    partner=backend.name,
                    order=self.env._(" of %(order)s", order=document["original_order_reference"])
                    if document.get("original_order_reference")
                    else "",
                )
            )
        self._link_message(message, original, outbound)
        family = self._picking_family(original)
        open_pickings = family.filtered(lambda p: p.state in OPEN_PICKING_STATES)
        if status == "cancelled":
            if open_pickings:
                self._raise_for_person(
                    "other",
                    self.env._("%(label)s cancelled by the partner", label=label),
                    self.env._(
                        "%(partner)s cancelled return %(reference)s: nothing is coming back. "
                        "Cancel %(pickings)s if the customer keeps the goods.",
                        partner=backend.name,
                        reference=document["reference"],
                        pickings=", ".join(open_pickings.mapped("name")),
                    ),
                    message,
                    open_pickings[0],
                )
            return original
        if status != "completed":
            return original
        lines = self._return_lines(message, document, family, label)
        received = self._sum_by_product([line for line in lines if not line["held"]])
        target = self._target_picking(family, document["reference"], received, label)
        if not target:
            return original
        held = [line for line in lines if line["held"]]
        handled = [line for line in lines if not line["held"]]
        if handled:
            parts = self._parts_by_move(target, handled, label)
            # What the partner still holds stays expected in the backorder; units never
            # received are no longer expected (the return is completed).
            held_by_move = defaultdict(float)
            for line in held:
                move = self._target_move(target, line["product"], line["line_ref"])
                if move:
                    held_by_move[move] += line["quantity"]
            for move in target.move_ids.filtered(lambda m: m.state not in ("done", "cancel")):
                still = sum(part[1] for part in parts.get(move, [])) + held_by_move[move]
                still = move.product_id.uom_id._compute_quantity(still, move.product_uom)
                if (
                    float_compare(
                        still, move.product_uom_qty, precision_rounding=move.product_uom.rounding
                    )
                    < 0
                ):
                    move.product_uom_qty = still
            self._fill_picking(target, parts)
            self._validate(target, keep_rest=True, label=label)
            self._stamp_done(
                target,
                to_utc_naive(document["updated_at"]) if document.get("updated_at") else None,
                document["reference"],
            )
            self._scrap_returned(target, document["reference"], handled)
            self._link_message(message, target, outbound)
        if held:
            rest = target.backorder_ids.filtered(lambda p: p.state in OPEN_PICKING_STATES)
            self._raise_for_person(
                "other",
                self.env._("%(label)s: goods held by the partner", label=label),
                self.env._(
                    "%(partner)s received these returned units but holds them without "
                    "restocking them (disposition):\n%(lines)s\nThey are not in Odoo's stock "
                    "and stay expected in %(pickings)s. Decide with the partner: restock them "
                    "(validate it), scrap them, or send them to the vendor.",
                    partner=backend.name,
                    lines=self._listed(
                        [
                            "{} ({})".format(
                                self._quantity_line(line["product"], line["quantity"]),
                                line["disposition"] or self.env._("no decision"),
                            )
                            for line in held
                        ]
                    ),
                    pickings=", ".join((rest or target).mapped("name")),
                ),
                message,
                rest[:1] or target,
            )
        return target

    @api.model
    def _return_picking(self, message, document):
        """The return transfer: the one sent to the partner under the return's reference, else
        a return of the delivery order released to the partner under
        original_order_reference."""
        picking, outbound = self._exchanged_picking(
            message, document["reference"], ("return",), "incoming"
        )
        if picking or not document.get("original_order_reference"):
            return picking, outbound
        release = self._find_released(
            message, ("order_release",), document["original_order_reference"]
        )
        delivery = self._picking_of(release)
        if not delivery:
            return None, None
        returns = self._picking_family(delivery).return_ids.filtered(
            lambda p: p.picking_type_code == "incoming"
        )
        # A return being received comes first, then one already confirmed by this RMA.
        picking = returns.filtered(lambda p: p.state in OPEN_PICKING_STATES).sorted("id")[:1]
        if not picking:
            picking = returns.filtered(
                lambda p: p.logistics_confirmation_ref == document["reference"]
            )[:1]
        return (picking.with_company(message.company_id) if picking else None), release

    @api.model
    def _return_lines(self, message, document, family, label):
        moves = {str(move.id): move for move in family.move_ids}
        lines = []
        for line in document["lines"]:
            move = moves.get(line.get("line_ref") or "")
            product = move.product_id if move else self._product_for_sku(message, line["sku"])
            received = line.get("quantity_received")
            quantity = self._product_quantity(
                message,
                product,
                line["quantity"] if received is None else received,
                line.get("uom"),
            )
            if float_is_zero(quantity, precision_rounding=product.uom_id.rounding):
                continue
            disposition = line.get("disposition")
            lines.append(
                {
                    "product": product,
                    "line_ref": line.get("line_ref"),
                    "quantity": quantity,
                    "disposition": disposition,
                    "held": disposition not in RESTOCK_DISPOSITIONS + SCRAP_DISPOSITIONS,
                    "scrap": disposition in SCRAP_DISPOSITIONS,
                    "parts": self._tracked_parts(product, quantity, line.get("lot"), None, label),
                }
            )
        return lines

    @api.model
    def _scrap_returned(self, picking, reference, lines):
        """Scrap what the partner reports damaged or disposed of, from where it was received,
        as Odoo scrap orders linked to the return."""
        scraps = self.env["stock.scrap"]
        for line in lines:
            if not line["scrap"]:
                continue
            product = line["product"]
            for lot_name, quantity, _expiry in line["parts"]:
                lot = self._lot(product, lot_name, picking.company_id) if lot_name else None
                received = picking.move_line_ids.filtered(
                    lambda ml, p=product, lot=lot: (
                        ml.product_id == p and (not lot or ml.lot_id == lot)
                    )
                )
                scraps |= scraps.create(
                    {
                        "product_id": product.id,
                        "product_uom_id": product.uom_id.id,
                        "scrap_qty": quantity,
                        "lot_id": lot.id if lot else False,
                        "location_id": (
                            received[:1].location_dest_id or picking.location_dest_id
                        ).id,
                        "picking_id": picking.id,
                        "origin": reference,
                        "company_id": picking.company_id.id,
                    }
                )
        scraps.do_scrap()
        return scraps

    # ------------------------------------------------------------------------------------------
    # Shared: finding what was exchanged with this partner
    # ------------------------------------------------------------------------------------------
    @api.model
    def _find_released(self, message, flows, reference):
        """The latest outbound message of the message's partner, in one of ``flows``, whose
        document carries ``reference`` (ours or the partner's id) and concerns a transfer."""
        return self._find_outbound(message, reference, flows=flows, res_model="stock.picking")

    @api.model
    def _picking_of(self, message):
        """The transfer a message concerns, with this applier's rights, or None."""
        document = message._get_document() if message else None
        if not document or document._name != "stock.picking":
            return None
        return document.with_env(self.env)

    @api.model
    def _exchanged_picking(self, message, reference, flows, picking_type_code):
        """The transfer ``reference`` designates, only if it was exchanged with the message's
        partner: through an outbound message of ``flows`` with that reference, else by its
        name when some outbound message of this partner concerns it. (None, None) for a
        transfer of another partner or never sent: it is never touched."""
        pickings = self.env["stock.picking"].with_company(message.company_id)
        outbound = self._find_released(message, flows, reference)
        picking = self._picking_of(outbound)
        if not picking:
            picking = pickings.search(
                [("name", "=", reference), ("company_id", "=", message.company_id.id)], limit=1
            )
            outbound = picking and self.env["logistics.message"].sudo().search(
                [
                    ("backend_id", "=", message.backend_id.id),
                    ("direction", "=", "outbound"),
                    ("res_model", "=", "stock.picking"),
                    ("res_id", "=", picking.id),
                ],
                limit=1,
                order="id desc",
            )
            if not outbound:
                return None, None
        if picking.picking_type_code != picking_type_code:
            return None, None
        return picking.with_company(message.company_id), outbound

    @api.model
    def _picking_family(self, picking):
        """A transfer and its backorders, and theirs: what a partial confirmation left open
        continues there, under the same reference."""
        family = picking
        new = picking
        while new:
            new = new.backorder_ids - family
            family |= new
        return family

    @api.model
    def _link_message(self, message, picking, outbound):
        values = {
            "res_model": picking._name,
            "res_id": picking.id,
            "correlation_id": picking._logistics_correlation(),
        }
        if outbound:
            values["parent_id"] = outbound.id
        message.write(values)

    @api.model
    def _target_picking(self, family, confirmation, quantities, label):
        """The open transfer of ``family`` a confirmation applies to, or None when it was
        applied already: the same confirmation again, or one for a family with nothing left
        open that reports what was done. Other quantities for a finished transfer are an
        error for a person."""
        applied = family.filtered(lambda p: p.logistics_confirmation_ref == confirmation)
        if applied:
            if self._same_quantities(self._done_quantities(applied), quantities):
                return None
            raise BusinessError(
                self.env._(
                    "%(label)s was already applied to %(picking)s with other quantities "
                    "(applied: %(applied)s; now: %(now)s). Nothing was changed: ask the partner "
                    "which is right and correct the transfer by hand if needed.",
                    label=label,
                    picking=", ".join(applied.mapped("name")),
                    applied=self._quantities_text(self._done_quantities(applied)),
                    now=self._quantities_text(quantities),
                )
            )
        open_pickings = family.filtered(lambda p: p.state in OPEN_PICKING_STATES)
        if open_pickings:
            return open_pickings.sorted("id")[0]
        done = family.filtered(lambda p: p.state == "done")
        if done and any(
            self._same_quantities(self._done_quantities(pickings), quantities)
            for pickings in [done, *done]
        ):
            return None
        raise BusinessError(
            self.env._(
                "%(label)s reports %(now)s, but %(pickings)s is already %(state)s with "
                "%(done)s. Nothing was changed: ask the partner what happened and correct the "
                "transfers by hand if needed.",
                label=label,
                now=self._quantities_text(quantities),
                pickings=", ".join(family.mapped("name")),
                state=self.env._("done") if done else self.env._("cancelled"),
                done=self._quantities_text(self._done_quantities(done)),
            )
        )

    # ------------------------------------------------------------------------------------------
    # Shared: products, quantities and lots as the partner sends them
    # ------------------------------------------------------------------------------------------
    @api.model
    def _product_for_sku(self, message, sku, missing_ok=False):
        """The product a partner's SKU stands for: a Product mapping, else the SKU itself as
        the Internal Reference."""
        backend = message.backend_id
        code = backend._unmap("product", sku, default=sku)
        product = (
            self.env["product.product"]
            .with_context(active_test=False)
            .search(
                [
                    ("default_code", "=", code),
                    ("company_id", "in", [False, message.company_id.id]),
                ],
                limit=1,
            )
        )
        if product or missing_ok:
            return product
        raise MappingMissingError(
            self.env._(
                "%(partner)s sent the SKU '%(sku)s', but no product has the Internal Reference "
                "'%(code)s': set it on the product, or add a Product mapping from '%(sku)s' in "
                "Logistics > Configuration > Mappings, then retry.",
                partner=backend.name,
                sku=sku,
                code=code,
            ),
            "product",
            sku,
        )

    @api.model
    def _product_quantity(self, message, product, quantity, uom_code):
        """A partner's quantity in the product's unit. Its unit is an Odoo unit name, or
        mapped to one by a Unit of Measure mapping."""
        if not uom_code or not quantity:
            return quantity
        name = message.backend_id._unmap("uom", uom_code, default=uom_code)
        if name == product.uom_id.name:
            return quantity
        uom = self.env["uom.uom"].search(
            [("name", "=", name), ("category_id", "=", product.uom_id.category_id.id)], limit=1
        )
        if not uom:
            raise MappingMissingError(
                self.env._(
                    "%(partner)s counts %(product)s in '%(unit)s', which is no unit of its kind "
                    "(%(category)s) in Odoo: add a Unit of Measure mapping from '%(unit)s' to an "
                    "Odoo unit in Logistics > Configuration > Mappings, then retry.",
                    partner=message.backend_id.name,
                    product=product.display_name,
                    unit=uom_code,
                    category=product.uom_id.category_id.name,
                ),
                "uom",
                uom_code,
            )
        return uom._compute_quantity(quantity, product.uom_id)

    @api.model
    def _tracked_parts(self, product, quantity, lot, serials, label, expiry=None):
        """[(lot or serial name or None, quantity)] of a line, as Odoo's tracking of the
        product needs it."""
        if float_is_zero(quantity, precision_rounding=product.uom_id.rounding):
            return []
        if product.tracking == "none":
            return [(None, quantity, None)]
        if product.tracking == "serial":
            serials = list(serials or ([lot] if lot else []))
            if len(serials) != quantity or len(set(serials)) != len(serials):
                raise BusinessError(
                    self.env._(
                        "%(label)s: %(product)s is tracked by serial number in Odoo, but the "
                        "partner sent %(count)s distinct serial numbers for %(quantity)s units. "
                        "Nothing was changed: ask the partner to send one serial per unit.",
                        label=label,
                        product=product.display_name,
                        count=len(set(serials)),
                        quantity=quantity,
                    )
                )
            return [(serial, 1.0, expiry) for serial in serials]
        if not lot:
            raise BusinessError(
                self.env._(
                    "%(label)s: %(product)s is tracked by lot in Odoo, but the partner sent no "
                    "lot. Nothing was changed: ask the partner to send the lot.",
                    label=label,
                    product=product.display_name,
                )
            )
        return [(lot, quantity, expiry)]

    @api.model
    def _lot(self, product, name, company, create=True, expiry=None):
        """The lot or serial number ``name`` of ``product``; made when the partner has one Odoo
        did not know of (the goods are there: traceability needs it)."""
        lots = self.env["stock.lot"]
        lot = lots.search(
            [
                ("product_id", "=", product.id),
                ("name", "=", name),
                ("company_id", "in", [False, company.id]),
            ],
            limit=1,
        )
        if lot or not create:
            return lot
        values = {"name": name, "product_id": product.id, "company_id": company.id}
        if expiry and "expiration_date" in lots._fields:  # product_expiry
            values["expiration_date"] = expiry
        return lots.create(values)

    @api.model
    def _sum_by_product(self, lines):
        quantities = defaultdict(float)
        for line in lines:
            quantities[line["product"]] += line["quantity"]
        return quantities

    @api.model
    def _done_quantities(self, pickings):
        """Product -> quantity done in ``pickings``, in the product's unit (scraps aside)."""
        quantities = defaultdict(float)
        for move in pickings.move_ids.filtered(lambda m: m.state == "done" and not m.scrapped):
            quantities[move.product_id] += move.product_uom._compute_quantity(
                move.quantity, move.product_id.uom_id
            )
        return quantities

    @api.model
    def _same_quantities(self, left, right):
        return all(
            float_compare(
                left.get(product, 0.0),
                right.get(product, 0.0),
                precision_rounding=product.uom_id.rounding,
            )
            == 0
            for product in set(left) | set(right)
        )

    # ------------------------------------------------------------------------------------------
    # Shared: putting quantities on transfers and validating them the Odoo way
    # ------------------------------------------------------------------------------------------
    @api.model
    def _target_move(self, picking, product, line_ref=None):
        """The open move of ``picking`` a line fills: the move it names, else one of the same
        product (after a backorder, the order's lines continue in new moves)."""
        moves = picking.move_ids.filtered(
            lambda m: m.state not in ("done", "cancel") and m.product_id == product
        )
        return moves.filtered(lambda m: str(m.id) == line_ref)[:1] or moves.sorted("id")[:1]

    @api.model
    def _parts_by_move(self, picking, lines, label):
        """Which move of ``picking`` each line's lots and quantities go to."""
        if picking.state == "draft":
            # Confirmed first (moves may merge): validating a draft transfer would take every
            # line the partner did not mention as done in full.
            picking.action_confirm()
        parts = defaultdict(list)
        for line in lines:
            if not line["parts"]:
                continue
            move = self._target_move(picking, line["product"], line["line_ref"])
            if not move:
                raise BusinessError(
                    self.env._(
                        "%(label)s reports %(quantity)s, but %(picking)s has nothing of it left "
                        "to do. Nothing was changed: ask the partner to correct its document, "
                        "or add the product to %(picking)s and retry.",
                        label=label,
                        quantity=self._quantity_line(line["product"], line["quantity"]),
                        picking=picking.name,
                    )
                )
            parts[move] += line["parts"]
        return parts

    @api.model
    def _fill_picking(self, picking, parts_by_move):
        """Put on each open move of ``picking`` exactly what the partner did; moves it did
        not mention are emptied (their reservation released), so that only what happened is
        validated."""
        move_lines = self.env["stock.move.line"]
        for move in picking.move_ids.filtered(lambda m: m.state not in ("done", "cancel")):
            parts = parts_by_move.get(move, [])
            product = move.product_id
            total = sum(part[1] for part in parts)
            picked = not float_is_zero(total, precision_rounding=product.uom_id.rounding)
            if product.tracking != "none":
                move.move_line_ids.unlink()
                values = []
                for lot_name, quantity, expiry in parts:
                    lot = self._lot(product, lot_name, move.company_id, expiry=expiry)
                    line = move._prepare_move_line_vals()
                    line.update(quantity=quantity, product_uom_id=product.uom_id.id, lot_id=lot.id)
                    if move.location_id.usage == "internal":
                        line["location_id"] = self._lot_location(move, lot).id
                    values.append(line)
                created = move_lines.create(values)
                if move.location_dest_id.usage == "internal":
                    created._apply_putaway_strategy()
                move.picked = picked
                continue
            # One write, as the transfer's form saves a line; the quantity first (its inverse
            # makes or drops the move lines that "picked" then marks), and only if it changes.
            values = {"picked": picked}
            quantity = product.uom_id._compute_quantity(total, move.product_uom)
            if float_compare(quantity, move.quantity, precision_rounding=move.product_uom.rounding):
                values = {"quantity": quantity, **values}
            move.write(values)

    @api.model
    def _lot_location(self, move, lot):
        """Where the lot is in the move's source location, else the source location."""
        quant = self.env["stock.quant"].search(
            [
                ("product_id", "=", move.product_id.id),
                ("lot_id", "=", lot.id),
                ("location_id", "child_of", move.location_id.id),
                ("quantity", ">", 0),
            ],
            order="quantity desc",
            limit=1,
        )
        return quant.location_id or move.location_id

    @api.model
    def _validate(self, picking, keep_rest, label):
        """Validate as a person answering Odoo's backorder question would (the partner already
        decided), without the dialogs: the rest goes to a backorder or is cancelled. Returns
        the open backorders."""
        context = {"skip_backorder": True, "skip_sms": True, "skip_expired": True}
        if not keep_rest:
            # As stock.backorder.confirmation's "No Backorder": the shortfall is logged on the
            # transfer and its source documents.
            self.env["stock.backorder.confirmation"]._check_less_quantities_than_expected(picking)
            context["picking_ids_not_to_backorder"] = picking.ids
        answer = picking.with_context(**context).button_validate()
        if picking.state != "done":
            question = answer.get("name") if isinstance(answer, dict) else None
            raise BusinessError(
                self.env._(
                    "%(label)s: Odoo did not validate %(picking)s%(question)s. Nothing was "
                    "changed: validate it by hand, or fix what it asks and retry.",
                    label=label,
                    picking=picking.name,
                    question=self.env._(" (it asks: %(q)s)", q=question) if question else "",
                )
            )
        return picking.backorder_ids.filtered(lambda p: p.state in OPEN_PICKING_STATES)

    @api.model
    def _stamp_done(self, picking, moment, confirmation, extra_values=None):
        """The partner's date of the event, and the confirmation that did it (with
        ``extra_values``, in the same write)."""
        values = {**(extra_values or {}), "logistics_confirmation_ref": confirmation}
        if moment:
            values["date_done"] = moment
            done = picking.move_ids.filtered(lambda m: m.state == "done")
            done.write({"date": moment})
            done.move_line_ids.write({"date": moment})
        picking.write(values)

    # ------------------------------------------------------------------------------------------
    # Shared: telling a person
    # ------------------------------------------------------------------------------------------
    @api.model
    def _raise_for_person(
        self, exception_type, summary, description, message, record, dedup_key=None
    ):
        """An exception about what a document said, on the document it concerns and its
        story. Not on the message: the message went through, and a message that goes through
        closes its own exceptions (those are about failing to process it)."""
        correlation = (
            record._logistics_correlation()
            if hasattr(record, "_logistics_correlation")
            else message.correlation_id
        )
        return self.env["logistics.exception"].raise_exception(
            exception_type,
            summary,
            self.env._(
                "%(description)s\n\nReceived in message %(message)s.",
                description=description,
                message=message.name,
            ),
            backend=message.backend_id,
            record=record,
            correlation_id=correlation,
            dedup_key=dedup_key,
        )

    @api.model
    def _quantity_line(self, product, first, second=None, lot_name=None):
        name = product.default_code or product.display_name
        if lot_name:
            name = f"{name} [{lot_name}]"
        unit = product.uom_id.name
        if second is None:
            return f"{name}: {first:g} {unit}"
        return f"{name}: {first:g} / {second:g} {unit}"

    @api.model
    def _quantities_text(self, quantities):
        lines = [self._quantity_line(product, quantity) for product, quantity in quantities.items()]
        return "; ".join(sorted(lines)) or self.env._("nothing")

    @api.model
    def _listed(self, lines, total=None):
        """The first lines as a list; ``total`` when only those were given."""
        total = len(lines) if total is None else total
        shown = [f"- {line}" for line in lines[:MAX_LISTED_LINES]]
        if total > MAX_LISTED_LINES:
            shown.append(self.env._("- and %(count)s more", count=total - MAX_LISTED_LINES))
        return "\n".join(shown)
