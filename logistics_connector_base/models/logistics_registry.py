from odoo import api, fields, models
from odoo.tools import SQL

from ..const import TRACKING_RANK
from ..lib import canonical
from ..lib.errors import BusinessError, ConfigurationError

# What appliers read of the outbound message an event answers (others are read on demand).
OUTBOUND_FIELDS_APPLIERS_READ = [
    "backend_id",
    "company_id",
    "flow",
    "state",
    "reference",
    "external_id",
    "correlation_id",
    "acknowledged",
    "res_model",
    "res_id",
]


def to_utc_naive(timestamp):
    """An RFC 3339 date-time with its offset (as the schemas require) as Odoo stores it:
    naive UTC."""
    return canonical.parse_date_time(timestamp).replace(tzinfo=None)


class LogisticsBuilder(models.AbstractModel):
    """Builder registry: Odoo records -> canonical documents. One method per flow,
    `_build_<flow>(record, backend)`; addons add flows by `_inherit` and a new method.
    Builders never know a wire format."""

    _name = "logistics.builder"
    _description = "Logistics Document Builders"

    @api.model
    def _build(self, flow, record, backend):
        method = getattr(self, f"_build_{flow}", None)
        if method is None:
            raise ConfigurationError(
                self.env._("No builder knows how to make a %(flow)s document.", flow=flow)
            )
        return method(record, backend)

    @api.model
    def _address(self, partner):
        partner = partner.commercial_partner_id if not partner.street else partner
        missing = [
            label
            for label, value in (
                (self.env._("street"), partner.street),
                (self.env._("city"), partner.city),
                (self.env._("country"), partner.country_id),
            )
            if not value
        ]
        if missing:
            raise BusinessError(
                self.env._(
                    "The address of %(partner)s has no %(missing)s: complete the contact, then "
                    "retry.",
                    partner=partner.display_name,
                    missing=", ".join(missing),
                )
            )
        return {
            "name": partner.name or partner.display_name,
            "company": partner.commercial_company_name or None,
            "street": partner.street,
            "street2": partner.street2 or None,
            "city": partner.city,
            "state": partner.state_id.code or None,
            "zip": partner.zip or None,
            "country": partner.country_id.code,
            "phone": partner.phone or None,
            "email": partner.email or None,
        }

    @api.model
    def _sku(self, product, backend):
        """The partner's SKU: a product mapping, else the internal reference."""
        if product.default_code:
            return backend._map("product", product.default_code, default=product.default_code)
        raise ConfigurationError(
            self.env._(
                "%(product)s has no Internal Reference and no SKU mapping for %(partner)s: set "
                "its Internal Reference or add a Product mapping, then retry.",
                product=product.display_name,
                partner=backend.name,
            )
        )

    @api.model
    def _build_order_release(self, picking, backend):
        """A delivery order released to a warehouse partner."""
        picking.ensure_one()
        warehouse = picking.picking_type_id.warehouse_id
        moves = picking.move_ids.filtered(lambda m: m.state != "cancel" and m.product_uom_qty > 0)
        if not moves:
            raise BusinessError(
                self.env._("%(picking)s has nothing to ship.", picking=picking.display_name)
            )
        document = {
            "schema": "order_release/1",
            "reference": picking.name,
            "correlation_id": picking._logistics_correlation(),
            "origin": picking.origin or None,
            "warehouse_code": backend._map("warehouse", warehouse.code),
            "ship_to": self._address(picking.partner_id),
            "lines": [
                {
                    "line_ref": str(move.id),
                    "sku": self._sku(move.product_id, backend),
                    "description": move.product_id.display_name,
                    "quantity": move.product_uom_qty,
                    "uom": backend._map(
                        "uom", move.product_uom.name, default=move.product_uom.name
                    ),
                }
                for move in moves
            ],
        }
        if picking.scheduled_date:
            document["requested_ship_date"] = fields.Date.to_string(picking.scheduled_date.date())
        carrier = picking._fields.get("carrier_id") and picking.carrier_id
        if carrier:
            document["carrier"] = {"service": backend._map("carrier_service", carrier.name)}
        return document


class LogisticsApplier(models.AbstractModel):
    """Applier registry: canonical documents -> Odoo records, one `_apply_<schema name>`
    method per document type. Appliers are idempotent and monotonic: applying the same document
    twice, or an older one after a newer one, changes nothing."""

    _name = "logistics.applier"
    _description = "Logistics Document Appliers"

    @api.model
    def _apply(self, message, document):
        name = document["schema"].split("/")[0]
        method = getattr(self, f"_apply_{name}", None)
        if method is None:
            raise ConfigurationError(
                self.env._(
                    "Documents of type %(schema)s cannot be applied: install the addon that "
                    "handles them.",
                    schema=document["schema"],
                )
            )
        return method(message, document)

    @api.model
    def _find_outbound(self, message, reference, flows=None, res_model=None):
        """The latest outbound message of the same partner whose document has this reference
        (ours or the partner's id), optionally in one of ``flows`` and about a ``res_model``."""
        conditions = [
            SQL("backend_id = %s", message.backend_id.id),
            SQL("direction = 'outbound'"),
        ]
        if flows:
            conditions.append(SQL("flow IN %s", tuple(flows)))
        if res_model:
            conditions.append(SQL("res_model = %s", res_model))
        # The few messages with that reference are found first (its two indexes), whatever
        # the statistics say of the partner: those of a new partner's messages estimate them
        # at a handful, and its whole history would be read to find one.
        matching = SQL(
            "(WITH matching AS MATERIALIZED (SELECT id, backend_id, direction, flow, res_model"
            " FROM logistics_message WHERE reference = %s OR external_id = %s)"
            " SELECT id FROM matching WHERE %s)",
            reference,
            reference,
            SQL(" AND ").join(conditions),
        )
        # With what appliers read of it: one query, not a search and a read.
        return (
            self.env["logistics.message"]
            .sudo()
            .search_fetch(
                [("id", "in", matching)], OUTBOUND_FIELDS_APPLIERS_READ, limit=1, order="id desc"
            )
        )

    @api.model
    def _exchanged_with_partner(self, message, model):
        """Domain of the ``model`` records this message's partner has exchanged messages
        about: an event from one partner never changes another partner's documents."""
        return [
            (
                "id",
                "in",
                self.env["logistics.message"]
                .sudo()
                ._search(
                    [
                        ("backend_id", "=", message.backend_id.id),
                        ("res_model", "=", model),
                        ("res_id", "!=", False),
                    ]
                )
                .subselect("res_id"),
            )
        ]

    @api.model
    def _apply_ack(self, message, document):
        """A partner acknowledges one of our messages."""
        original = self._find_outbound(message, document["acknowledged_reference"])
        if not original:
            raise BusinessError(
                self.env._(
                    "Acknowledgement for %(ref)s, but no message was sent with that reference.",
                    ref=document["acknowledged_reference"],
                )
            )
        message.write({"parent_id": original.id, "correlation_id": original.correlation_id})
        values = {"acknowledged": True}
        if document.get("partner_reference") and not original.external_id:
            values["external_id"] = document["partner_reference"]
        original.write(values)
        if document["status"] != "accepted":
            errors = "\n".join(
                f"- {error.get('message') or error}" for error in document.get("errors") or []
            )
            self.env["logistics.exception"].raise_exception(
                "partner_rejected",
                self.env._(
                    "%(partner)s %(status)s %(name)s",
                    partner=original.backend_id.name,
                    status=document["status"],
                    name=original.name,
                ),
                self.env._("The partner reported:\n%(errors)s", errors=errors or "-"),
                backend=original.backend_id,
                message=original,
                record=original._get_document(),
                correlation_id=original.correlation_id,
            )
        return original

    @api.model
    def _apply_tracking_event(self, message, document):
        """A parcel status: recorded on the picking that carries the tracking number, never
        moving it backwards (a late "in transit" does not overwrite "delivered")."""
        pickings = self.env["stock.picking"].with_company(message.company_id)
        company = [
            ("company_id", "=", message.company_id.id),
            *self._exchanged_with_partner(message, "stock.picking"),
        ]
        picking = pickings.search(
            [*company, ("logistics_tracking_ref", "=", document["tracking_number"])], limit=1
        )
        if not picking and document.get("shipment_reference"):
            picking = pickings.search(
                [*company, ("name", "=", document["shipment_reference"])], limit=1
            )
        if not picking:
            raise BusinessError(
                self.env._(
                    "No delivery order exchanged with %(partner)s has the tracking number "
                    "%(number)s.",
                    partner=message.backend_id.name,
                    number=document["tracking_number"],
                )
            )
        message.write(
            {
                "res_model": "stock.picking",
                "res_id": picking.id,
                "correlation_id": picking._logistics_correlation(),
            }
        )
        new_rank = TRACKING_RANK.get(document["status"], 0)
        old_rank = TRACKING_RANK.get(picking.logistics_tracking_status or "", 0)
        occurred_at = to_utc_naive(document["occurred_at"])
        newer = (
            not picking.logistics_tracking_date or occurred_at >= picking.logistics_tracking_date
        )
        if new_rank > old_rank or (new_rank == old_rank and newer):
            picking.write(
                {
                    "logistics_tracking_ref": document["tracking_number"],
                    "logistics_tracking_status": document["status"],
                    "logistics_tracking_date": occurred_at,
                }
            )
        return picking
