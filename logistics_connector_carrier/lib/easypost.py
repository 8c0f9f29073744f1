"""EasyPost's wire format <-> canonical documents: plain functions, no Odoo.

The canonical side is an ``order_release/1`` document (what to ship, from where, to whom, with
which service) whose ``extensions`` carry the parcel; answers come back as plain dicts, and
trackers as ``tracking_event/1`` documents.
"""

import hashlib
import hmac
import unicodedata

from ..const import EASYPOST_STATUS, INCHES_PER_MM, OUNCES_PER_KG

SIGNATURE_HEADER = "X-Hmac-Signature"
SIGNATURE_PREFIX = "hmac-sha256-hex="


def address(canonical):
    """A canonical address as an EasyPost Address."""
    return {
        "name": canonical.get("name"),
        "company": canonical.get("company"),
        "street1": canonical.get("street"),
        "street2": canonical.get("street2"),
        "city": canonical.get("city"),
        "state": canonical.get("state"),
        "zip": canonical.get("zip"),
        "country": canonical.get("country"),
        "phone": canonical.get("phone"),
        "email": canonical.get("email"),
    }


def parcel(extensions):
    """The parcel of a document's extensions (kilograms, millimetres) in ounces and inches."""
    given = extensions.get("parcel") or {}
    result = {"weight": round(max(float(given.get("weight_kg") or 0), 0) * OUNCES_PER_KG, 1)}
    for side in ("length", "width", "height"):
        millimetres = given.get(f"{side}_mm")
        if millimetres:
            result[side] = round(float(millimetres) * INCHES_PER_MM, 1)
    if given.get("predefined_package"):
        result["predefined_package"] = given["predefined_package"]
    return result


def shipment_request(document):
    """The body of POST /v2/shipments for a canonical document."""
    extensions = document.get("extensions") or {}
    shipment = {
        "reference": document["reference"],
        "to_address": address(document["ship_to"]),
        "from_address": address(document.get("ship_from") or document["ship_to"]),
        "parcel": parcel(extensions),
        "options": {"label_format": extensions.get("label_format") or "PDF"},
    }
    if extensions.get("is_return"):
        shipment["is_return"] = True
    if document.get("currency"):
        shipment["options"]["currency"] = document["currency"]
    return {"shipment": shipment}


def rate_summary(rate):
    return {
        "id": rate.get("id"),
        "carrier": rate.get("carrier"),
        "service": rate.get("service"),
        "amount": float(rate.get("rate") or 0),
        "currency": rate.get("currency") or "USD",
        "delivery_days": rate.get("delivery_days") or rate.get("est_delivery_days"),
        "delivery_date": rate.get("delivery_date"),
    }


def choose_rate(rates, carrier=None, service=None):
    """The rate of the carrier and service asked for (either may be empty), the cheapest of
    those that match; None when none matches."""
    matching = [
        rate
        for rate in rates or []
        if (not carrier or (rate.get("carrier") or "").lower() == carrier.lower())
        and (not service or (rate.get("service") or "").lower() == service.lower())
    ]
    if not matching:
        return None
    return min(matching, key=lambda rate: float(rate.get("rate") or 0))


def label_answer(shipment):
    """What a bought shipment means to Odoo (kept as the message's answer)."""
    label = shipment.get("postage_label") or {}
    rate = shipment.get("selected_rate") or {}
    tracker = shipment.get("tracker") or {}
    return {
        "shipment_id": shipment.get("id"),
        "reference": shipment.get("reference"),
        "tracking_number": shipment.get("tracking_code"),
        "carrier": rate.get("carrier"),
        "service": rate.get("service"),
        "cost": float(rate.get("rate") or 0),
        "currency": rate.get("currency") or "USD",
        "label_url": label.get("label_pdf_url")
        or label.get("label_zpl_url")
        or label.get("label_url"),
        "label_file_type": label.get("label_file_type"),
        "tracker_id": tracker.get("id"),
        "public_url": tracker.get("public_url"),
        "is_return": bool(shipment.get("is_return")),
    }


def signature(secret, body):
    key = unicodedata.normalize("NFKD", secret).encode()
    return SIGNATURE_PREFIX + hmac.new(key, body, hashlib.sha256).hexdigest()


def signature_matches(secrets, given, body):
    """Whether ``given`` (the X-Hmac-Signature header) signs ``body`` with one of the secrets,
    compared in constant time."""
    given = (given or "").strip().encode()
    return any(hmac.compare_digest(signature(secret, body).encode(), given) for secret in secrets)


def tracking_events(tracker, shipment_reference=None):
    """Every tracking detail of an EasyPost Tracker as a canonical tracking_event/1, oldest
    first (a late or repeated tracker carries its whole history: the applier keeps each once)."""
    events = []
    for detail in tracker.get("tracking_details") or []:
        partner_status = detail.get("status") or tracker.get("status") or "unknown"
        location = detail.get("tracking_location") or {}
        country = location.get("country")
        event = {
            "schema": "tracking_event/1",
            "tracking_number": tracker["tracking_code"],
            # Tracking details carry no id of their own: what, when and why make one.
            "event_id": f"{tracker.get('id')}:{detail.get('datetime')}:{partner_status}:"
            f"{detail.get('status_detail') or ''}",
            "carrier": tracker.get("carrier"),
            "shipment_reference": shipment_reference,
            "status": EASYPOST_STATUS.get(partner_status, "exception"),
            "partner_status": partner_status,
            "reason": detail.get("status_detail"),
            "description": detail.get("message") or None,
            "occurred_at": _rfc3339(detail.get("datetime") or tracker.get("updated_at")),
            "location": {
                "city": location.get("city"),
                "state": location.get("state"),
                "zip": location.get("zip"),
                "country": country if country and len(country) == 2 else None,
            },
        }
        if partner_status == "delivered" and tracker.get("signed_by"):
            event["signed_by"] = tracker["signed_by"]
        if tracker.get("est_delivery_date"):
            event["estimated_delivery_at"] = _rfc3339(tracker["est_delivery_date"])
        events.append(event)
    return sorted(events, key=lambda event: event["occurred_at"])


def _rfc3339(value):
    """EasyPost's UTC times (``2025-03-01T14:05:00Z``) as RFC 3339 with an explicit offset."""
    text = str(value or "")
    return text[:-1] + "+00:00" if text.endswith("Z") else text
