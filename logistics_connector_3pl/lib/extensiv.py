"""Extensiv 3PL Warehouse Manager's wire format <-> canonical documents (plain functions)."""

from odoo.addons.logistics_connector_base.lib.errors import DocumentValidationError

ORDER_REL = "http://api.3plCentral.com/rels/orders/order"
STATUS_CLOSED = 1
STATUS_CANCELED = 2


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


def orders_of(page):
    """The orders of one HAL page, and the total number of results."""
    embedded = (page or {}).get("_embedded") or {}
    return embedded.get(ORDER_REL) or [], int((page or {}).get("totalResults") or 0)


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
