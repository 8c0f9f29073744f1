"""ShipBob's wire format <-> canonical documents (plain functions, no Odoo).

Outbound: an order_release/1 becomes a ``POST /order`` body, a receipt/1 (stage expected) a
``POST /receiving`` body (WRO), a return/1 a ``POST /return`` body. Inbound: a Standard
Webhooks event ``{"type": <topic>, "timestamp", "data"}`` becomes the canonical documents the
base's appliers apply: shipments, tracking events, acknowledgements carrying the warehouse's
progress, receipts, returns and inventory changes.
"""

from odoo.addons.logistics_connector_base.lib.errors import DocumentValidationError

# Topic -> the flow its documents feed: ShipBob's public topics (webhook subscriptions,
# API 2026-07), whose names the adapter registers (PUBLIC_TOPICS).
TOPIC_FLOWS = {
    "order.shipped": "shipment",
    "order.delivered": "tracking_event",
    "order.shipment.delivered": "tracking_event",
    "order.shipment.tracking.updated": "tracking_event",
    "order.shipment.on_hold": "ack",
    "order.shipment.exception": "ack",
    "order.shipment.cancelled": "ack",
    "return.created": "return",
    "return.updated": "return",
    "return.completed": "return",
}
PUBLIC_TOPICS = tuple(TOPIC_FLOWS)
# Not ShipBob topics, said plainly: ShipBob publishes no webhook for the warehouse's picking
# and packing (its dashboard shows them; its API has the order's and shipment's status only),
# nor names of its receiving (WRO) topics in the contract we follow, nor an inventory event
# (inventory is pulled: GET /inventory). The sandbox sends these so that the demo and the
# tests show every step the connector can show; against ShipBob an order goes from
# Acknowledged (the 201 answer) to On hold / Exception (public topics) and Shipped, a
# receiving order is confirmed when its topic is delivered under one of these names, and
# inventory differences come from the pulled snapshot.
SANDBOX_TOPIC_FLOWS = {
    "order.acknowledged": "ack",
    "order.picked": "ack",
    "order.packed": "ack",
    "receiving.updated": "receipt",
    "receiving.completed": "receipt",
    "inventory.adjusted": "inventory_snapshot",
}
WAREHOUSE_STEPS = {
    "order.acknowledged": "acknowledged",
    "order.picked": "picked",
    "order.packed": "packed",
    "order.shipment.on_hold": "on_hold",
    "order.shipment.exception": "exception",
    "order.shipment.cancelled": "cancelled",
}
# ShipBob's parcel statuses -> tracking_event/1 statuses.
TRACKING_STATUSES = {
    "LabelCreated": "label_created",
    "InTransit": "in_transit",
    "OutForDelivery": "out_for_delivery",
    "AvailableForPickup": "available_for_pickup",
    "Delivered": "delivered",
    "Exception": "exception",
    "ReturnedToSender": "returned",
}
RETURN_STATUSES = {
    "AwaitingArrival": "awaiting_arrival",
    "Arrived": "arrived",
    "Processing": "processing",
    "Completed": "completed",
    "Cancelled": "cancelled",
}
RETURN_DISPOSITIONS = {
    "Restock": "restock",
    "Quarantine": "quarantine",
    "Dispose": "dispose",
    "Damaged": "damaged",
    "ReturnToSender": "return_to_vendor",
}
# What Odoo asks for each returned unit (return/1 disposition -> ShipBob requested_action).
REQUESTED_ACTIONS = {"restock": "Restock", "quarantine": "Quarantine", "dispose": "Dispose"}


def flow_for_topic(topic):
    """The flow a topic feeds; unknown topics (billing, address changes) are stored on the
    generic webhook flow and change nothing."""
    topic = topic or ""
    return TOPIC_FLOWS.get(topic) or SANDBOX_TOPIC_FLOWS.get(topic) or "webhook"


def polled_topic(order):
    """The topic whose event an order read from ``GET /order`` stands for, or None (still
    processing): shipped once a shipment is completed, else on hold, in exception or
    cancelled."""
    if any(s.get("status") == "Completed" for s in order.get("shipments") or []):
        return "order.shipped"
    return {
        "OnHold": "order.shipment.on_hold",
        "Exception": "order.shipment.exception",
        "Cancelled": "order.shipment.cancelled",
    }.get(order.get("status"))


def shipments_in(data):
    """The shipments an event is about: an order event carries the order with its
    shipments, an ``order.shipment.*`` event one shipment."""
    if "shipments" in data:
        return data.get("shipments") or []
    return [data]


def whole_units(quantity, what):
    """ShipBob counts whole units."""
    if quantity != int(quantity):
        raise DocumentValidationError(
            f"{what}: ShipBob counts whole units, {quantity:g} is not one. Change the quantity "
            "or the unit of measure (add a Unit of Measure mapping), then retry."
        )
    return int(quantity)


def _line_id(line_ref):
    return int(line_ref) if str(line_ref or "").isdigit() else line_ref


def order_payload(document, shipping_method):
    """``POST /order`` body of an order_release/1."""
    ship_to = document["ship_to"]
    return {
        "reference_id": document["reference"],
        "order_number": document.get("origin") or document["reference"],
        "type": "DTC",
        "shipping_method": shipping_method,
        "recipient": {
            "name": ship_to["name"],
            "company_name": ship_to.get("company"),
            "email": ship_to.get("email"),
            "phone_number": ship_to.get("phone"),
            "address": {
                "address1": ship_to["street"],
                "address2": ship_to.get("street2"),
                "city": ship_to["city"],
                "state": ship_to.get("state"),
                "zip_code": ship_to.get("zip"),
                "country": ship_to["country"],
            },
        },
        "products": products_payload(document),
        "tags": [{"name": "correlation_id", "value": document.get("correlation_id") or ""}],
    }


def products_payload(document):
    return [
        {
            "reference_id": line["sku"],
            "name": line.get("description") or line["sku"],
            "quantity": whole_units(line["quantity"], f"{document['reference']} {line['sku']}"),
            "quantity_unit_of_measure_code": line.get("uom"),
            "external_line_id": _line_id(line.get("line_ref")),
        }
        for line in document["lines"]
    ]


def shipments_of(order, event_time):
    """shipment/1 documents of every completed shipment of an order: the appliers apply each
    once (by its id), so a late or repeated event changes nothing. The last one is complete
    when the order is fulfilled."""
    shipments = sorted(
        (s for s in order.get("shipments") or [] if s.get("status") == "Completed"),
        key=lambda s: s["id"],
    )
    fulfilled = order.get("status") == "Fulfilled"
    documents = []
    for index, shipment in enumerate(shipments):
        tracking = shipment.get("tracking") or {}
        numbers = [tracking["tracking_number"]] if tracking.get("tracking_number") else []
        packages = []
        for carton in shipment.get("parent_cartons") or []:
            number = carton.get("tracking_number")
            if number and number not in numbers:
                numbers.append(number)
            packages.append(
                {
                    "reference": carton.get("barcode"),
                    "tracking_number": number,
                    "contents": [
                        {"sku": c["sku"], "quantity": c["quantity"], "lot": c.get("lot")}
                        for c in carton.get("contents") or []
                    ],
                }
            )
        lines = []
        for product in shipment.get("products") or []:
            line_ref = product.get("external_line_id")
            for item in product.get("inventory_items") or [{"quantity": product["quantity"]}]:
                line = {
                    "line_ref": str(line_ref) if line_ref is not None else None,
                    "sku": product["reference_id"],
                    "quantity_shipped": item["quantity"],
                    "lot": item.get("lot"),
                }
                if item.get("serial_numbers"):
                    line["serials"] = list(item["serial_numbers"])
                lines.append(line)
        documents.append(
            {
                "schema": "shipment/1",
                "reference": str(shipment["id"]),
                "order_reference": order["reference_id"],
                "status": "complete" if fulfilled and index == len(shipments) - 1 else "partial",
                "shipped_at": tracking.get("shipping_date")
                or shipment.get("actual_fulfillment_date")
                or event_time,
                "warehouse_code": str((shipment.get("location") or {}).get("id") or "") or None,
                "carrier": {
                    "code": tracking.get("carrier"),
                    "service": tracking.get("carrier_service"),
                    "name": tracking.get("carrier"),
                },
                "tracking_numbers": numbers,
                "packages": packages,
                "lines": lines,
            }
        )
    return documents


def tracking_events_of(order, event_time):
    """tracking_event/1 documents: each delivered shipment's parcel."""
    events = []
    for shipment in shipments_in(order):
        tracking = shipment.get("tracking") or {}
        if not tracking.get("tracking_number") or not shipment.get("delivery_date"):
            continue
        events.append(
            {
                "schema": "tracking_event/1",
                "tracking_number": tracking["tracking_number"],
                "carrier": tracking.get("carrier"),
                "shipment_reference": order["reference_id"],
                "status": "delivered",
                "occurred_at": shipment["delivery_date"],
            }
        )
    return events


def tracking_updates_of(order, event_time):
    """tracking_event/1 documents of a carrier scan on the order's parcels."""
    events = []
    for shipment in shipments_in(order):
        tracking = shipment.get("tracking") or {}
        status = TRACKING_STATUSES.get(tracking.get("status"))
        if tracking.get("tracking_number") and status:
            events.append(
                {
                    "schema": "tracking_event/1",
                    "tracking_number": tracking["tracking_number"],
                    "carrier": tracking.get("carrier"),
                    "shipment_reference": order["reference_id"],
                    "status": status,
                    "partner_status": tracking.get("status"),
                    "occurred_at": tracking.get("last_update_at") or event_time,
                }
            )
    return events


def progress_of(topic, order, event_time):
    """ack/1 for the warehouse's progress on an order (acknowledged, picked, packed, on hold,
    exception, cancelled), with the event time and ShipBob's reason. ``order`` is the order,
    or for ``order.shipment.*`` topics the shipment (with its order's id and reference)."""
    reasons = [
        detail.get("description") or detail.get("name")
        for detail in order.get("status_details") or []
        if detail.get("description") or detail.get("name")
    ]
    return [
        {
            "schema": "ack/1",
            "acknowledged_reference": order["reference_id"],
            "acknowledged_schema": "order_release/1",
            "status": "accepted",
            "partner_reference": str(order.get("order_id") or order["id"]),
            "received_at": event_time,
            "extensions": {
                "warehouse_status": WAREHOUSE_STEPS[topic],
                "reason": "; ".join(reasons) or None,
                "partner_status": order.get("status"),
            },
        }
    ]


def receipt_of(wro, event_time):
    """receipt/1 (stage received) of a completed WRO: good and damaged units per box item."""
    lines = []
    for box in wro.get("boxes") or []:
        for item in box.get("box_items") or []:
            lines.append(
                {
                    "sku": item["sku"],
                    "lot": item.get("lot_number"),
                    "quantity_expected": item.get("quantity") or None,
                    "quantity_received": item.get("received_quantity") or 0,
                    "quantity_damaged": item.get("damaged_quantity") or 0,
                }
            )
    for line in lines:
        if not line["quantity_expected"]:
            del line["quantity_expected"]
    return [
        {
            "schema": "receipt/1",
            "reference": wro["purchase_order_number"],
            "stage": "received",
            "receipt_reference": f"WRO-{wro['id']}",
            "warehouse_code": str((wro.get("fulfillment_center") or {}).get("id") or "") or None,
            "received_at": wro.get("completed_date") or event_time,
            "lines": lines,
        }
    ]


def return_of(item, event_time):
    """return/1 of a ShipBob return: one line per disposition once it is processed."""
    lines = []
    for entry in item.get("inventory") or []:
        taken = entry.get("action_taken") or []
        if not taken:
            lines.append({"sku": entry["sku"], "quantity": entry["quantity"]})
        for action in taken:
            lines.append(
                {
                    "sku": entry["sku"],
                    "quantity": action["quantity_processed"],
                    "quantity_received": action["quantity_processed"],
                    "lot": action.get("lot_number"),
                    "disposition": RETURN_DISPOSITIONS.get(action.get("action"), "pending"),
                }
            )
    return [
        {
            "schema": "return/1",
            "reference": item["reference_id"],
            "partner_reference": str(item["id"]),
            "original_order_reference": item.get("original_order_reference_id"),
            "status": RETURN_STATUSES.get(item.get("status"), "processing"),
            "updated_at": item.get("updated_date") or event_time,
            "warehouse_code": str((item.get("fulfillment_center") or {}).get("id") or "") or None,
            "tracking_numbers": [item["tracking_number"]] if item.get("tracking_number") else [],
            "lines": lines,
        }
    ]


def inventory_change_of(data, event_time):
    """inventory_snapshot/1 (incomplete: this SKU only) of a damage or cycle count."""
    return [
        {
            "schema": "inventory_snapshot/1",
            "warehouse_code": str(data["fulfillment_center"]["id"]),
            "taken_at": data.get("adjusted_at") or event_time,
            "complete": False,
            "items": [
                {
                    "sku": data["sku"],
                    "lot": data.get("lot_number"),
                    "on_hand": data["onhand_quantity"],
                }
            ],
            "extensions": {"reason": data.get("reason"), "delta": data.get("delta")},
        }
    ]


def inventory_snapshot_of(items, fulfillment_center, taken_at, reference=None):
    """inventory_snapshot/1 (complete) of one fulfillment center from GET /inventory pages:
    on hand and available per SKU, per lot where ShipBob counts lots."""
    rows = []
    for item in items:
        lots = item.get("fulfillable_quantity_by_lot") or []
        per_lot = [
            (lot.get("lot_number"), fc)
            for lot in lots
            for fc in lot.get("fulfillable_quantity_by_fulfillment_center") or []
            if str(fc.get("id")) == str(fulfillment_center)
        ]
        if per_lot:
            for lot_number, fc in per_lot:
                rows.append(_snapshot_row(item["sku"], lot_number, fc))
            continue
        for fc in item.get("fulfillable_quantity_by_fulfillment_center") or []:
            if str(fc.get("id")) == str(fulfillment_center):
                rows.append(_snapshot_row(item["sku"], None, fc))
    return {
        "schema": "inventory_snapshot/1",
        "reference": reference,
        "warehouse_code": str(fulfillment_center),
        "taken_at": taken_at,
        "complete": True,
        "items": rows,
    }


def _snapshot_row(sku, lot, fc):
    return {
        "sku": sku,
        "lot": lot,
        "on_hand": fc.get("onhand_quantity") or 0,
        "available": fc.get("fulfillable_quantity"),
        "committed": fc.get("committed_quantity"),
    }


def documents_of(envelope):
    """The canonical documents an event carries."""
    if not isinstance(envelope, dict) or not isinstance(envelope.get("data"), dict):
        raise DocumentValidationError("The ShipBob event has no 'data' object.")
    topic, data = envelope.get("type"), envelope["data"]
    moment = envelope.get("timestamp")
    try:
        if topic == "order.shipped":
            return shipments_of(data, moment)
        if topic in ("order.delivered", "order.shipment.delivered"):
            return tracking_events_of(data, moment)
        if topic == "order.shipment.tracking.updated":
            return tracking_updates_of(data, moment)
        if topic in WAREHOUSE_STEPS:
            return progress_of(topic, data, moment)
        if topic in ("receiving.updated", "receiving.completed"):
            return receipt_of(data, moment) if data.get("status") == "Completed" else []
        if topic in ("return.created", "return.updated", "return.completed"):
            return return_of(data, moment)
        if topic == "inventory.adjusted":
            return inventory_change_of(data, moment)
    except (KeyError, TypeError, ValueError) as error:
        raise DocumentValidationError(
            f"The ShipBob event {topic} lacks what Odoo needs ({type(error).__name__}: {error})."
        ) from None
    return []
