"""Extensiv 3PL Warehouse Manager's wire format <-> canonical documents (plain functions)."""

from odoo.addons.logistics_connector_base.lib.errors import DocumentValidationError

ORDER_REL = "http://api.3plCentral.com/rels/orders/order"
RECEIVER_REL = "http://api.3plCentral.com/rels/inventory/receiver"
# Stock details rows: the rel URI, or "item" as in the tap-3plcentral samples.
STOCK_RELS = ("http://api.3plCentral.com/rels/inventory/item", "item")
STATUS_CLOSED = 1
STATUS_CANCELED = 2
# Warehouse Manager tells apart stock of one SKU by its qualifier; a warehouse receives damaged
# units under a damage qualifier (they are not sellable stock, and not in Odoo's).
DAMAGED_QUALIFIERS = ("DMG", "DAMAGED")
# A returned unit's qualifier says what the warehouse did with it (return/1 disposition);
# Extensiv has no return disposition of its own.
RETURN_DISPOSITIONS = {
    "": "restock",
    "DMG": "damaged",
    "DAMAGED": "damaged",
    "QC": "quarantine",
    "HOLD": "quarantine",
    "QUARANTINE": "quarantine",
    "SCRAP": "dispose",
    "DISPOSE": "dispose",
    "RTV": "return_to_vendor",
}


def order_payload(document, customer_id, facility_id, service):
    ship_to = document["ship_to"]
    return {
        "customerIdentifier": {"id": customer_id},
        "facilityIdentifier": {"id": facility_id},
        "referenceNum": document["reference"],
        "poNum": document.get("origin") or None,
        "shipTo": {
            "companyName": ship_to.get("company") or ship_to["name"],
            "name": ship_to["name"],
            "address1": ship_to["street"],
            "address2": ship_to.get("street2"),
            "city": ship_to["city"],
            "state": ship_to.get("state"),
            "zip": ship_to.get("zip"),
            "country": ship_to["country"],
            "phoneNumber": ship_to.get("phone"),
            "emailAddress": ship_to.get("email"),
        },
        "routingInfo": {"carrier": service},
        "orderItems": [
            {
                "itemIdentifier": {"sku": line["sku"]},
                "qty": line["quantity"],
                "lotNumber": line.get("lot"),
            }
            for line in document["lines"]
        ],
    }


def embedded_of(page, *rels):
    """The resources of one HAL page under the first of ``rels`` it has, and the total number
    of results."""
    embedded = (page or {}).get("_embedded") or {}
    items = next((embedded[rel] for rel in rels if rel in embedded), None) or []
    return items, int((page or {}).get("totalResults") or 0)


def orders_of(page):
    """The orders of one HAL page, and the total number of results."""
    return embedded_of(page, ORDER_REL)


def receivers_of(page):
    return embedded_of(page, RECEIVER_REL)


def stock_rows_of(page):
    return embedded_of(page, *STOCK_RELS)


def qualifier(item):
    return str(item.get("qualifier") or "").strip().upper()


def receiver_payload(document, customer_id, facility_id, flow):
    """``POST /inventory/receivers`` body: an advance shipping notice (receipt/1 expected) or
    a customer return the warehouse will receive (return/1 announced), which Warehouse
    Manager books as a receiver too; ``poNum`` carries the purchase order or the original
    order."""
    is_return = flow == "return"
    return {
        "customerIdentifier": {"id": customer_id},
        "facilityIdentifier": {"id": facility_id},
        "referenceNum": document["reference"],
        "poNum": (
            document.get("original_order_reference") if is_return else document.get("po_reference")
        )
        or None,
        "expectedDate": document.get("expected_date"),
        "notes": "Customer return" if is_return else None,
        "receiveItems": [
            {
                "itemIdentifier": {"sku": line["sku"]},
                "qty": line["quantity"] if is_return else line["quantity_expected"],
                "lotNumber": line.get("lot"),
            }
            for line in document["lines"]
        ],
    }


def _received_items(receiver):
    """(sku, lot, qualifier, quantity) of a closed receiver's items."""
    for item in receiver.get("receiveItems") or []:
        quantity = item.get("qty") or 0
        if quantity:
            yield (
                item["itemIdentifier"]["sku"],
                item.get("lotNumber") or None,
                qualifier(item),
                quantity,
            )


def _received_at(receiver):
    read_only = receiver["readOnly"]
    return read_only.get("arrivalDate") or read_only["lastModifiedDate"]


def receipt_of(receiver):
    """receipt/1 (received) of a closed receiver: good units per SKU and lot, and those
    received under a damage qualifier."""
    try:
        lines = {}
        for sku, lot, kind, quantity in _received_items(receiver):
            line = lines.setdefault(
                (sku, lot),
                {"sku": sku, "lot": lot, "quantity_received": 0, "quantity_damaged": 0},
            )
            line["quantity_damaged" if kind in DAMAGED_QUALIFIERS else "quantity_received"] += (
                quantity
            )
        if not lines:
            raise ValueError("the closed receiver has no received items")
        return {
            "schema": "receipt/1",
            "reference": receiver["referenceNum"],
            "stage": "received",
            "receipt_reference": f"EXT-R{receiver['readOnly']['receiverId']}",
            "po_reference": receiver.get("poNum"),
            "warehouse_code": str((receiver.get("facilityIdentifier") or {}).get("id") or "")
            or None,
            "received_at": _received_at(receiver),
            "lines": list(lines.values()),
        }
    except (KeyError, TypeError, ValueError) as error:
        raise DocumentValidationError(
            f"The Extensiv receiver lacks what Odoo needs ({type(error).__name__}: {error})."
        ) from None


def return_of(receiver):
    """return/1 of a customer return booked as a receiver: completed once closed, one line
    per SKU, lot and disposition (from the qualifier); cancelled when the warehouse cancelled
    it."""
    try:
        read_only = receiver["readOnly"]
        cancelled = read_only.get("status") == STATUS_CANCELED
        lines = []
        for sku, lot, kind, quantity in _received_items(receiver):
            lines.append(
                {
                    "sku": sku,
                    "lot": lot,
                    "quantity": quantity,
                    "quantity_received": 0 if cancelled else quantity,
                    "disposition": None if cancelled else RETURN_DISPOSITIONS.get(kind, "pending"),
                }
            )
        if not lines:
            raise ValueError("the receiver has no items")
        return {
            "schema": "return/1",
            "reference": receiver["referenceNum"],
            "partner_reference": str(read_only["receiverId"]),
            "original_order_reference": receiver.get("poNum"),
            "status": "cancelled" if cancelled else "completed",
            "updated_at": read_only["lastModifiedDate"],
            "warehouse_code": str((receiver.get("facilityIdentifier") or {}).get("id") or "")
            or None,
            "lines": lines,
        }
    except (KeyError, TypeError, ValueError) as error:
        raise DocumentValidationError(
            f"The Extensiv return lacks what Odoo needs ({type(error).__name__}: {error})."
        ) from None


def snapshot_of(rows, facility_id, taken_at, reference=None):
    """inventory_snapshot/1 (complete) of one facility from its stock details: on hand and
    available per SKU and lot. Units under a damage qualifier are left out: the receipt
    reported them damaged, so they are not in Odoo's stock either."""
    try:
        totals = {}
        for row in rows:
            if qualifier(row) in DAMAGED_QUALIFIERS:
                continue
            key = (row["itemIdentifier"]["sku"], row.get("lotNumber") or None)
            entry = totals.setdefault(key, {"on_hand": 0, "available": 0})
            entry["on_hand"] += row.get("onHand") or 0
            entry["available"] += row.get("available") or 0
        return {
            "schema": "inventory_snapshot/1",
            "reference": reference,
            "warehouse_code": str(facility_id),
            "taken_at": taken_at,
            "complete": True,
            "items": [
                {
                    "sku": sku,
                    "lot": lot,
                    "on_hand": entry["on_hand"],
                    "available": entry["available"],
                }
                for (sku, lot), entry in totals.items()
            ],
        }
    except (KeyError, TypeError) as error:
        raise DocumentValidationError(
            f"An Extensiv stock detail lacks what Odoo needs ({type(error).__name__}: {error})."
        ) from None


def is_shipped(order):
    read_only = order.get("readOnly") or {}
    return read_only.get("isClosed") and read_only.get("status") == STATUS_CLOSED


def is_canceled(order):
    return (order.get("readOnly") or {}).get("status") == STATUS_CANCELED


def shipment_of(order):
    """shipment/1 of a closed order: its packages' contents (SKU from the order item), lots,
    serials and tracking numbers."""
    try:
        read_only = order["readOnly"]
        skus = {
            item["readOnly"]["orderItemId"]: item["itemIdentifier"]["sku"]
            for item in order["orderItems"]
        }
        totals, numbers, packages = {}, [], []
        for package in read_only.get("packages") or []:
            number = package.get("trackingNumber")
            if number and number not in numbers:
                numbers.append(number)
            contents = []
            for content in package.get("packageContents") or []:
                sku = skus[content["orderItemId"]]
                key = (sku, content.get("lotNumber"))
                entry = totals.setdefault(key, {"quantity": 0, "serials": []})
                entry["quantity"] += content["qty"]
                if content.get("serialNumber"):
                    entry["serials"].append(content["serialNumber"])
                contents.append(
                    {"sku": sku, "quantity": content["qty"], "lot": content.get("lotNumber")}
                )
            packages.append(
                {
                    "reference": str(package.get("packageId")),
                    "tracking_number": number,
                    "contents": contents,
                }
            )
        routing = order.get("routingInfo") or {}
        if routing.get("trackingNumber") and routing["trackingNumber"] not in numbers:
            numbers.append(routing["trackingNumber"])
        lines = []
        for (sku, lot), entry in totals.items():
            line = {"sku": sku, "quantity_shipped": entry["quantity"], "lot": lot}
            if entry["serials"]:
                line["serials"] = entry["serials"]
            lines.append(line)
        if not lines:
            raise ValueError("the closed order has no package contents")
        return {
            "schema": "shipment/1",
            "reference": f"EXT-{read_only['orderId']}",
            "order_reference": order["referenceNum"],
            "status": "complete",
            "shipped_at": read_only.get("processDate") or read_only["lastModifiedDate"],
            "carrier": {"code": routing.get("scacCode"), "name": routing.get("carrier")},
            "bill_of_lading": routing.get("billOfLading"),
            "tracking_numbers": numbers,
            "packages": packages,
            "lines": lines,
        }
    except (KeyError, TypeError, ValueError) as error:
        raise DocumentValidationError(
            f"The Extensiv order lacks what Odoo needs ({type(error).__name__}: {error})."
        ) from None


def cancellation_of(order):
    return {
        "schema": "ack/1",
        "acknowledged_reference": order["referenceNum"],
        "acknowledged_schema": "order_release/1",
        "status": "accepted",
        "partner_reference": str(order["readOnly"]["orderId"]),
        "received_at": order["readOnly"]["lastModifiedDate"],
        "extensions": {"warehouse_status": "cancelled", "reason": "Canceled in Extensiv"},
    }


def receiver_cancellation_of(receiver):
    """ack/1 saying the warehouse cancelled an advance shipping notice: it will receive
    nothing against it."""
    read_only = receiver["readOnly"]
    return {
        "schema": "ack/1",
        "acknowledged_reference": receiver["referenceNum"],
        "acknowledged_schema": "receipt/1",
        "status": "accepted",
        "partner_reference": str(read_only["receiverId"]),
        "received_at": read_only["lastModifiedDate"],
        "extensions": {"warehouse_status": "cancelled", "reason": "Canceled in Extensiv"},
    }
