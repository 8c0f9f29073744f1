import hashlib
import json
import re
from datetime import timedelta
from urllib.parse import urljoin

from odoo import api, fields, models
from odoo.addons.logistics_connector_base.lib import webhook_signature
from odoo.addons.logistics_connector_base.lib.errors import (
    BusinessError,
    ConfigurationError,
    DocumentValidationError,
)
from odoo.addons.logistics_connector_base.models.db_tools import after_commit
from odoo.exceptions import UserError

from ..lib import shipbob

CREATE_PATHS = {"order_release": "order", "receipt": "receiving", "return": "return"}
# A partner paging for ever must not hold a worker: 2,000 pages of 250 SKUs is 500,000 SKUs.
MAX_INVENTORY_PAGES = 2000
MAX_SUBSCRIPTION_PAGES = 50
# References per GET /order?ReferenceIds= of the poll (short enough for any URL limit).
ORDERS_PER_POLL_REQUEST = 50
# The signing secret ShipBob accepts on a subscription: whsec_ and 24 bytes in base64.
SHIPBOB_SECRET = re.compile(r"whsec_[a-zA-Z0-9+/]{32}")


class LogisticsAdapterShipbob(models.AbstractModel):
    """A 3PL following ShipBob's public API: orders unique by ``reference_id`` (a 422
    "Duplicate reference ID" means an earlier attempt landed: the order is looked up and
    bound), receiving orders (WRO) for advance shipping notices, returns, inventory paged by
    ``next-page``, 429 with ``x-retry-after`` (the transport turns it into a TransientError
    with the partner's delay), and Standard Webhooks events for shipments, deliveries,
    warehouse progress, returns and receiving.

    The partner's base URL carries the dated API version, e.g.
    ``https://api.shipbob.com/2026-07``."""

    _name = "logistics.adapter.shipbob"
    _inherit = "logistics.adapter"
    _description = "ShipBob-style REST + webhooks"

    # ---- outbound ----------------------------------------------------------------------------
    @api.model
    def _sends_flow(self, flow):
        """The transfers this adapter sends when they become ready."""
        return flow in ("order_release", "receipt", "return")

    @api.model
    def _send(self, message, resend=False):
        if message.flow not in CREATE_PATHS:
            raise ConfigurationError(
                self.env._("The ShipBob adapter cannot send %(flow)s.", flow=message.flow)
            )
        backend = message.backend_id
        document = message.canonical_payload or {}
        transport = backend._rest_transport()
        with self._exchange(message, transport):
            if message.flow == "order_release":
                action = document.get("action") or "create"
                if action == "cancel":
                    result = self._cancel_order(message, transport, document)
                elif action == "update":
                    result = self._update_order(message, transport, document)
                else:
                    result = self._create_order(message, transport, document, resend)
            elif message.flow == "receipt":
                result = self._create_receiving(message, transport, document, resend)
            else:
                result = self._create_return(message, transport, document, resend)
        if result.get("id"):
            message.write({"external_id": str(result["id"])})
        return {key: result.get(key) for key in ("id", "status", "reference_id") if key in result}

    @api.model
    def _call(self, message, transport, method, path, **kwargs):
        return transport.request(
            method, path, correlation_id=message.correlation_id, accept_statuses=(422,), **kwargs
        )

    @api.model
    def _channel_headers(self, message, transport):
        """The channel creations are made in: the partner's setting, else the first channel
        the token sees (asked once per transport, never written back from a job: the partner
        row is shared state other workers update)."""
        backend = message.backend_id
        channel = backend.shipbob_channel_id or getattr(transport, "shipbob_channel_id", None)
        if not channel:
            channels = self._call(message, transport, "GET", "channel").json() or []
            if not channels:
                raise ConfigurationError(
                    self.env._(
                        "The ShipBob token of %(partner)s sees no channel: create one in ShipBob "
                        "(or give a token of the right account), then retry.",
                        partner=backend.name,
                    )
                )
            channel = transport.shipbob_channel_id = str(channels[0]["id"])
        return {"shipbob_channel_id": str(channel)}

    @api.model
    def _find(self, message, transport, path, query, value):
        """The partner's record whose ``query`` is ``value``, or None."""
        found = self._call(message, transport, "GET", path, params={query: value}).json() or []
        return found[0] if found else None

    @api.model
    def _refused(self, message, response, what):
        """ShipBob's 422 as words a person can act on."""
        try:
            problem = json.loads(response.content)
            errors = problem.get("errors") or {}
            reasons = [text for texts in errors.values() for text in texts] or [
                problem.get("title")
            ]
        except (ValueError, AttributeError, TypeError):
            reasons = [response.text[:300]]
        error = BusinessError(
            self.env._(
                "%(partner)s refused %(what)s: %(reasons)s",
                partner=message.backend_id.name,
                what=what,
                reasons="; ".join(str(r) for r in reasons if r),
            ),
            status=response.status,
        )
        error.exchange = response.exchange
        return error

    @api.model
    def _post_unique(self, message, transport, lookup, payload, what):
        """Create a document ShipBob keeps unique by a reference; ``lookup`` is (resource,
        query parameter, reference). A 422 "duplicate reference" means an earlier attempt
        landed (its answer was lost): bind what it made instead of refusing."""
        resource, query, reference = lookup
        response = self._call(
            message,
            transport,
            "POST",
            resource,
            json=payload,
            headers=self._channel_headers(message, transport),
        )
        if response.status == 422:
            if "duplicate reference" in response.text.lower():
                found = self._find(message, transport, resource, query, reference)
                if found:
                    return found
            raise self._refused(message, response, what)
        return response.json()

    @api.model
    def _create_order(self, message, transport, document, resend):
        reference = document["reference"]
        if resend:
            found = self._find(message, transport, "order", "ReferenceIds", reference)
            if found:
                return found
        service = (document.get("carrier") or {}).get(
            "service"
        ) or message.backend_id.default_service_level
        if not service:
            raise ConfigurationError(
                self.env._(
                    "%(reference)s has no shipping method and %(partner)s has no default service "
                    "level: set one of them, then retry.",
                    reference=reference,
                    partner=message.backend_id.name,
                )
            )
        payload = shipbob.order_payload(document, service)
        return self._post_unique(
            message,
            transport,
            ("order", "ReferenceIds", reference),
            payload,
            self.env._("order %(ref)s", ref=reference),
        )

    @api.model
    def _existing_order(self, message, transport, reference):
        return self._find(message, transport, "order", "ReferenceIds", reference)

    @api.model
    def _update_order(self, message, transport, document):
        reference = document["reference"]
        order = self._existing_order(message, transport, reference)
        if not order:
            raise BusinessError(
                self.env._(
                    "%(partner)s has no order %(reference)s to change: send the transfer again "
                    "(Send to 3PL) instead.",
                    partner=message.backend_id.name,
                    reference=reference,
                )
            )
        body = {"products": shipbob.products_payload(document)}
        response = self._call(message, transport, "PUT", f"order/{order['id']}", json=body)
        if response.status == 422:
            raise self._refused(
                message,
                response,
                self.env._(
                    "the new quantities of %(reference)s, so it will ship the quantities it had: "
                    "put the transfer's quantities back or ship the difference separately",
                    reference=reference,
                ),
            )
        return response.json()

    @api.model
    def _cancel_order(self, message, transport, document):
        reference = document["reference"]
        order = self._existing_order(message, transport, reference)
        if not order:
            return {"id": None, "status": "NotFound", "reference_id": reference}
        if order.get("status") == "Cancelled":
            return order
        response = self._call(message, transport, "POST", f"order/{order['id']}/cancel")
        if response.status == 422:
            raise self._refused(
                message,
                response,
                self.env._(
                    "to cancel %(reference)s, so it will ship: stop the parcel with the carrier "
                    "or create a return once it arrives, and check the Odoo transfer",
                    reference=reference,
                ),
            )
        return response.json()

    @api.model
    def _product_id(self, message, transport, line):
        """ShipBob's product id of a SKU; a SKU it does not know yet is added to its catalog."""
        found = self._find(message, transport, "product", "sku", line["sku"])
        if found:
            return found["id"]
        response = self._call(
            message,
            transport,
            "POST",
            "product",
            json={"reference_id": line["sku"], "name": line.get("description") or line["sku"]},
            headers=self._channel_headers(message, transport),
        )
        if response.status == 422:
            raise self._refused(message, response, self.env._("SKU %(sku)s", sku=line["sku"]))
        return response.json()["id"]

    @api.model
    def _fulfillment_center(self, document, backend):
        code = document.get("warehouse_code")
        if not str(code or "").isdigit():
            raise ConfigurationError(
                self.env._(
                    "The Warehouse mapping of %(partner)s must give ShipBob's fulfillment center "
                    "id (a number), not '%(code)s': correct it in Logistics > Configuration > "
                    "Mappings, then retry.",
                    partner=backend.name,
                    code=code,
                )
            )
        return {"id": int(code)}

    @api.model
    def _create_receiving(self, message, transport, document, resend):
        reference = document["reference"]
        if resend:
            found = self._find(message, transport, "receiving", "PurchaseOrderNumbers", reference)
            if found:
                return found
        items = [
            {
                "product_id": self._product_id(message, transport, line),
                "quantity": shipbob.whole_units(
                    line["quantity_expected"], f"{reference} {line['sku']}"
                ),
                "lot_number": line.get("lot"),
            }
            for line in document["lines"]
        ]
        payload = {
            "fulfillment_center": self._fulfillment_center(document, message.backend_id),
            "package_type": "Package",
            "box_packaging_type": "EverythingInOneBox",
            "boxes": [{"tracking_number": None, "box_items": items}],
            "expected_arrival_date": document.get("expected_date"),
            "purchase_order_number": reference,
        }
        return self._post_unique(
            message,
            transport,
            ("receiving", "PurchaseOrderNumbers", reference),
            payload,
            self.env._("receiving order %(ref)s", ref=reference),
        )

    @api.model
    def _create_return(self, message, transport, document, resend):
        reference = document["reference"]
        if resend:
            found = self._find(message, transport, "return", "ReferenceIds", reference)
            if found:
                return found
        payload = {
            "reference_id": reference,
            "fulfillment_center": self._fulfillment_center(document, message.backend_id),
            "inventory": [
                {
                    "id": self._product_id(message, transport, line),
                    "quantity": shipbob.whole_units(line["quantity"], f"{reference} {line['sku']}"),
                    "requested_action": shipbob.REQUESTED_ACTIONS.get(
                        line.get("disposition") or "restock", "Restock"
                    ),
                }
                for line in document["lines"]
            ],
        }
        original = document.get("original_order_reference")
        order = original and self._existing_order(message, transport, original)
        if order and order.get("shipments"):
            payload["original_shipment_id"] = order["shipments"][0]["id"]
        return self._post_unique(
            message,
            transport,
            ("return", "ReferenceIds", reference),
            payload,
            self.env._("return %(ref)s", ref=reference),
        )

    # ---- inventory (polled) ------------------------------------------------------------------
    @api.model
    def _pull_inventory(self, backend):
        """Read ShipBob's whole inventory (every page, by its next-page header) and store it
        raw as one inbound message per mapped fulfillment center: its job reconciles it with
        Odoo's stock (the base's inventory applier). Returns the messages."""
        transport = backend._rest_transport()
        items, path, pages = [], "inventory?Limit=250", 0
        while path:
            response = transport.request("GET", path)
            items += response.json() or []
            next_page = response.headers.get("next-page")
            # ShipBob's next-page is a path from the host (with the version).
            path = urljoin(transport.base_url + "/", next_page) if next_page else None
            pages += 1
            if pages > MAX_INVENTORY_PAGES:
                raise BusinessError(
                    self.env._(
                        "%(partner)s keeps giving a next page after %(pages)s pages of "
                        "inventory: the sync stopped. Ask the partner.",
                        partner=backend.name,
                        pages=pages,
                    )
                )
        taken_at = fields.Datetime.now().replace(microsecond=0).isoformat() + "Z"
        messages = self.env["logistics.message"]
        centers = (
            self.env["logistics.mapping"]
            .sudo()
            .search([("backend_id", "=", backend.id), ("mapping_type", "=", "warehouse")])
            .mapped("partner_value")
        )
        for center in centers:
            raw = json.dumps(
                {"fulfillment_center": center, "taken_at": taken_at, "inventory": items}
            ).encode()
            message, _created = messages._create_inbound(
                backend,
                "inventory_snapshot",
                raw,
                event_id=f"inventory:{center}:{taken_at}",
            )
            messages |= message
        return messages

    # ---- polled: what webhooks may not have brought -------------------------------------------
    @api.model
    def _poll(self, backend):
        """What the webhooks may not have brought (ShipBob retries them for 24 hours only,
        and publishes no receiving topic names we follow): the status of the orders Odoo
        still waits for, and the completed receiving orders. Returns the messages created."""
        return self._poll_orders(backend) | self._poll_receiving(backend)

    @api.model
    def _poll_orders(self, backend):
        """Read the orders still open in Odoo (``GET /order?ReferenceIds=``) and store what a
        webhook would have said: shipped (its shipments), on hold, in exception, cancelled.
        Keyed by the order and what it says, so a poll that finds nothing new stores nothing
        and a webhook about the same thing applies once."""
        references = backend._logistics_open_order_references()
        transport = backend._rest_transport()
        messages = self.env["logistics.message"]
        moment = fields.Datetime.now().replace(microsecond=0).isoformat() + "Z"
        for start in range(0, len(references), ORDERS_PER_POLL_REQUEST):
            chunk = references[start : start + ORDERS_PER_POLL_REQUEST]
            response = transport.request(
                "GET", "order", params={"ReferenceIds": ",".join(chunk), "Limit": 250}
            )
            for order in response.json() or []:
                topic = shipbob.polled_topic(order)
                if not topic:
                    continue
                said = (
                    [
                        s["id"]
                        for s in order.get("shipments") or []
                        if s.get("status") == "Completed"
                    ]
                    if topic == "order.shipped"
                    else order.get("status_details")
                )
                digest = hashlib.sha256(json.dumps(said, sort_keys=True).encode()).hexdigest()[:16]
                raw = json.dumps({"type": topic, "timestamp": moment, "data": order}).encode()
                message, created = messages._create_inbound(
                    backend,
                    shipbob.flow_for_topic(topic),
                    raw,
                    event_id=f"order:{order['id']}:{topic}:{digest}",
                )
                if created:
                    messages |= message
        return messages

    @api.model
    def _poll_receiving(self, backend):
        """Completed receiving orders not taken yet (ShipBob's receiving guide: poll as the
        fallback of webhooks): each one Odoo sent is stored as an inbound receipt (keyed by
        the WRO, so a webhook about it too applies once), and marked as taken
        (``receiving:setExternalSync``) once that is committed; a mark that fails only lists
        it again."""
        transport = backend._rest_transport()
        wros, path = [], "receiving?Statuses=Completed&ExternalSync=false&Limit=250"
        for _page in range(MAX_SUBSCRIPTION_PAGES):
            response = transport.request("GET", path)
            wros += response.json() or []
            next_page = response.headers.get("next-page")
            if not next_page:
                break
            path = urljoin(transport.base_url + "/", next_page)
        ours = set(
            self.env["logistics.message"]
            .sudo()
            .search(
                [
                    ("backend_id", "=", backend.id),
                    ("direction", "=", "outbound"),
                    ("flow", "=", "receipt"),
                    ("external_id", "in", [str(wro["id"]) for wro in wros]),
                ]
            )
            .mapped("external_id")
        )
        messages, taken = self.env["logistics.message"], []
        for wro in wros:
            if str(wro["id"]) not in ours:
                continue  # made in ShipBob's dashboard or by another system: not ours to take
            moment = wro.get("completed_date") or wro.get("last_updated_date")
            raw = json.dumps(
                {"type": "receiving.completed", "timestamp": moment, "data": wro}, sort_keys=True
            ).encode()
            message, created = messages._create_inbound(
                backend, "receipt", raw, event_id=f"wro:{wro['id']}:completed"
            )
            taken.append(wro["id"])
            if created:
                messages |= message
        if taken:

            def mark_taken(_cr, ids=tuple(taken)):
                transport.request(
                    "POST",
                    "receiving:setExternalSync",
                    json={"ids": list(ids), "is_external_sync": True},
                )

            after_commit(self.env, f"shipbob_wro_taken:{backend.id}:{taken}", mark_taken)
        return messages

    # ---- inbound -----------------------------------------------------------------------------
    @api.model
    def _webhook_flow(self, envelope):
        if not isinstance(envelope, dict) or not isinstance(envelope.get("type"), str):
            raise DocumentValidationError(
                self.env._("The ShipBob event has no 'type' (its topic).")
            )
        return shipbob.flow_for_topic(envelope["type"])

    @api.model
    def _decode(self, message):
        envelope = self._parse_json(message._raw_payload(), self.env._("ShipBob event"))
        if isinstance(envelope, dict) and "inventory" in envelope and "type" not in envelope:
            # A pulled inventory (_pull_inventory): every SKU of one fulfillment center.
            return [
                shipbob.inventory_snapshot_of(
                    envelope["inventory"],
                    envelope["fulfillment_center"],
                    envelope["taken_at"],
                    reference=f"ShipBob {envelope['fulfillment_center']} {envelope['taken_at']}",
                )
            ]
        return shipbob.documents_of(envelope)

    # ---- administration ----------------------------------------------------------------------
    @api.model
    def _test_connection(self, backend):
        transport = backend._rest_transport()
        channels = transport.request("GET", "channel").json() or []
        text = self.env._(
            "ShipBob answered with %(count)s channel(s): %(channels)s.",
            count=len(channels),
            channels=", ".join(f"{c.get('name')} (id {c.get('id')})" for c in channels) or "-",
        )
        url = backend.sudo().webhook_url
        subscribed = {
            topic
            for subscription in self._subscriptions(transport)
            if subscription.get("url") == url
            for topic in subscription.get("topics") or ()
        }
        missing = [topic for topic in shipbob.PUBLIC_TOPICS if topic not in subscribed]
        if missing:
            return (
                text
                + "\n"
                + self.env._(
                    "ShipBob does not send %(topics)s to this partner's webhook URL: use Register "
                    "Webhooks.",
                    topics=", ".join(missing),
                )
            )
        return text + "\n" + self.env._("Its webhooks are registered.")

    # ---- webhook subscription -----------------------------------------------------------------
    @api.model
    def _register_webhooks(self, backend):
        """Subscribe the partner's webhook URL to ShipBob's public topics with the partner's
        signing secret (POST /webhook), once: a subscription of this URL with the same topics
        and secret is kept, one that differs is replaced, subscriptions of other URLs are left
        alone. Returns what was done, in words."""
        url = backend.sudo().webhook_url
        if backend.environment == "production" and not (url or "").startswith("https://"):
            raise UserError(
                self.env._(
                    "ShipBob only calls https addresses, and the webhook URL of %(partner)s is "
                    "%(url)s: set the System Parameter web.base.url to Odoo's public https "
                    "address, then register again.",
                    partner=backend.name,
                    url=url,
                )
            )
        secret = self._subscription_secret(backend)
        transport = backend._rest_transport()
        mine = [s for s in self._subscriptions(transport) if s.get("url") == url]
        wanted = set(shipbob.PUBLIC_TOPICS)
        kept = [
            s
            for s in mine
            if set(s.get("topics") or ()) == wanted and s.get("secret") in (None, secret)
        ][:1]
        for stale in [s for s in mine if s not in kept]:
            transport.request("DELETE", f"webhook/{stale['id']}", accept_statuses=(404,))
        if kept:
            subscription, done = kept[0], self.env._("was already registered")
        else:
            response = transport.request(
                "POST",
                "webhook",
                json={
                    "topics": list(shipbob.PUBLIC_TOPICS),
                    "url": url,
                    "description": f"Odoo Logistics Connector ({backend.code})",
                    "secret": secret,
                },
                accept_statuses=(422,),
            )
            if response.status == 422:
                raise UserError(
                    self.env._(
                        "ShipBob refused the webhook subscription of %(partner)s: %(answer)s",
                        partner=backend.name,
                        answer=response.text[:300],
                    )
                )
            subscription, done = response.json(), self.env._("is registered")
        backend.sudo().shipbob_webhook_id = str(subscription.get("id") or "")
        return self.env._(
            "ShipBob's subscription %(id)s %(done)s: %(url)s gets %(topics)s.",
            id=subscription.get("id"),
            done=done,
            url=url,
            topics=", ".join(shipbob.PUBLIC_TOPICS),
        )

    @api.model
    def _subscriptions(self, transport):
        found, path = [], "webhook"
        for _page in range(MAX_SUBSCRIPTION_PAGES):
            response = transport.request("GET", path)
            answer = response.json() or []
            found += answer.get("items", []) if isinstance(answer, dict) else answer
            next_page = response.headers.get("next-page")
            if not next_page:
                break
            path = urljoin(transport.base_url + "/", next_page)
        return found

    @api.model
    def _subscription_secret(self, backend):
        """The partner's signing secret in the form ShipBob accepts (24 bytes): one of
        another length is replaced by a new one, the old one staying valid for the grace
        period, as when it is rotated."""
        configured = backend._config_value("webhook_secret")
        current = configured or backend.sudo().webhook_secret
        if current and SHIPBOB_SECRET.fullmatch(current):
            return current
        if configured:
            raise UserError(
                self.env._(
                    "The signing secret of %(partner)s comes from the server configuration and "
                    "ShipBob does not accept it (it takes whsec_ and 24 bytes in base64, 32 "
                    "characters): put such a secret there, then register again.",
                    partner=backend.name,
                )
            )
        fresh = webhook_signature.generate_secret(24)
        values = {"webhook_secret": fresh}
        if current:
            values.update(
                webhook_secret_previous=current,
                webhook_secret_previous_expiry=fields.Datetime.now()
                + timedelta(hours=backend.webhook_rotation_grace_hours),
            )
        backend.sudo().write(values)
        return fresh
