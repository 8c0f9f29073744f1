"""Canonical documents <-> X12 transaction sets (plain Python, no Odoo).

Outbound: ``order_release/1`` -> 940 segments. Inbound: 945 -> ``shipment/1``, 944 ->
``receipt/1``, 846 -> ``inventory_snapshot/1``, 997 -> acknowledgement results. Inbound sets
reach these functions validated by the engine; what the canonical schema needs but the set
does not carry raises ``MappingProblem`` in plain words.
"""

from ..x12.codes import ELEMENT_ERRORS, GROUP_ERRORS, SEGMENT_ERRORS, SET_ERRORS
from ..x12.serializer import format_decimal

W05_ACTIONS = {"create": "N", "update": "R", "cancel": "F"}
WEIGHT_UNITS = {"LB": "lb", "KG": "kg", "OZ": "oz", "GR": "g"}
# W12-01 statuses that leave something to ship later
BACK_ORDERED = {"BP"}
ACK_STATUS = {"A": "accepted", "E": "partial", "P": "partial"}


class MappingProblem(ValueError):
    """The set cannot become a canonical document; the text says what is missing."""


def _date(value):
    return value.replace("-", "")[:8] if value else None


def _rfc3339(date, time=None):
    """X12 CCYYMMDD (+ HHMM[SS]) -> RFC 3339 in UTC (X12 carries no zone: the partner's
    agreement says which; UTC unless configured)."""
    time = (time or "0000").ljust(6, "0")[:6]
    return f"{date[:4]}-{date[4:6]}-{date[6:8]}T{time[:2]}:{time[2:4]}:{time[4:6]}+00:00"


def _number(text):
    value = float(text)
    return int(value) if value.is_integer() else value


# --- outbound -------------------------------------------------------------------------------


def order_release_to_940(document):
    """The 940 body (segments between ST and SE) of an ``order_release/1`` document."""
    segments = [
        (
            "W05",
            [
                W05_ACTIONS[document.get("action") or "create"],
                document["reference"],
                document.get("po_reference"),
            ],
        )
    ]
    for qualifier, address in (("ST", document.get("ship_to")), ("SF", document.get("ship_from"))):
        if not address:
            continue
        segments.append(("N1", [qualifier, address["name"]]))
        if address.get("company"):
            segments.append(("N2", [address["company"]]))
        segments.append(("N3", [address["street"], address.get("street2")]))
        segments.append(
            ("N4", [address["city"], address.get("state"), address.get("zip"), address["country"]])
        )
        if address.get("phone") or address.get("email"):
            contact = ["IC", None]
            if address.get("phone"):
                contact += ["TE", address["phone"]]
            if address.get("email"):
                contact += ["EM", address["email"]]
            segments.append(("PER", contact))
    segments.append(("N1", ["WH", None, "91", document["warehouse_code"]]))
    if document.get("origin"):
        segments.append(("N9", ["OQ", document["origin"][:30]]))
    if document.get("requested_ship_date"):
        segments.append(("G62", ["10", _date(document["requested_ship_date"])]))
    if document.get("requested_delivery_date"):
        segments.append(("G62", ["02", _date(document["requested_delivery_date"])]))
    if document.get("notes"):
        segments.append(("NTE", ["WHI", document["notes"][:80]]))
    carrier = document.get("carrier")
    if carrier:
        code = carrier.get("code")
        segments.append(
            ("W66", ["PP", "M", None, None, carrier.get("service"), None, None, None, None, code])
        )
    segments.append(("LX", ["1"]))
    total = 0
    for line in document["lines"]:
        total += line["quantity"]
        segments.append(
            (
                "W01",
                [
                    format_decimal(line["quantity"]),
                    line["uom"],
                    None,
                    "SK",
                    line["sku"],
                    "UP" if line.get("barcode") else None,
                    line.get("barcode"),
                    None,
                    None,
                    None,
                    None,
                    None,
                    line.get("lot"),
                ],
            )
        )
        if line.get("description"):
            # G69 holds 45 characters: the description is for people, the SKU identifies
            segments.append(("G69", [line["description"][:45]]))
        segments.append(("N9", ["LI", line["line_ref"]]))
    segments.append(("W76", [format_decimal(total)]))
    return segments


def receipt_to_943(document):
    """The 943 body (stock transfer shipment advice: goods on their way to the warehouse)
    of a ``receipt/1`` document at the stage "expected"."""
    segments = [
        (
            "W06",
            [
                "F",
                document["reference"],
                _date(document.get("expected_date")),
                None,
                None,
                document.get("po_reference"),
            ],
        ),
        ("N1", ["WH", None, "91", document["warehouse_code"]])
        if document.get("warehouse_code")
        else ("N1", ["WH", "Warehouse"]),
    ]
    for tracking in document.get("tracking_numbers") or []:
        segments.append(("N9", ["2I", tracking[:30]]))
    # W27 is mandatory: the transport method is not known to Odoo, M (motor) by default
    segments.append(("W27", ["M", None, (document.get("carrier") or "")[:35] or None]))
    total = 0
    for line in document["lines"]:
        quantity = line.get("quantity_expected") or 0
        total += quantity
        elements = [format_decimal(quantity), line.get("uom") or "EA", None, "SK", line["sku"]]
        if line.get("lot"):
            elements += [None] * 10 + [line["lot"]]
        segments.append(("W04", elements))
        if line.get("line_ref"):
            segments.append(("N9", ["LI", line["line_ref"]]))
    segments.append(("W03", [format_decimal(total)]))
    return segments


def shipment_to_856(document):
    """The 856 body (ship notice to a customer) of a ``shipment/1`` document: hierarchy
    shipment > order > pack > item (BSN05 0001), packs only when packages are known."""
    shipped = document["shipped_at"]
    date, time = shipped[:10].replace("-", ""), shipped[11:16].replace(":", "")
    segments = [
        ("BSN", ["00", document["reference"], date, time or "0000", "0001"]),
        ("HL", ["1", None, "S"]),
    ]
    weight = document.get("weight")
    if weight:
        unit = {"kg": "KG", "lb": "LB", "g": "GR", "oz": "OZ"}[weight["uom"]]
        segments.append(
            ("TD1", [None, None, None, None, None, "G", format_decimal(weight["value"]), unit])
        )
    carrier = (document.get("carrier") or {}).get("code")
    if carrier:
        segments.append(("TD5", [None, "2", carrier]))
    if document.get("bill_of_lading"):
        segments.append(("REF", ["BM", document["bill_of_lading"][:30]]))
    for tracking in document.get("tracking_numbers") or []:
        segments.append(("REF", ["CN", tracking[:30]]))
    segments.append(("DTM", ["011", date, time or None]))
    segments.append(("HL", ["2", "1", "O"]))
    segments.append(("PRF", [document["order_reference"][:22]]))
    number = 2

    def item(parent, sku, quantity, uom):
        nonlocal number
        number += 1
        return [
            ("HL", [str(number), str(parent), "I"]),
            ("LIN", [None, "SK", sku]),
            ("SN1", [None, format_decimal(quantity), uom or "EA"]),
        ]

    uom_by_sku = {line["sku"]: line.get("uom") for line in document["lines"]}
    packages = [p for p in document.get("packages") or [] if p.get("contents")]
    if packages:
        for package in packages:
            number += 1
            pack = number
            segments.append(("HL", [str(pack), "2", "P"]))
            if package.get("reference"):
                segments.append(("MAN", ["GM", package["reference"][:48]]))
            if package.get("tracking_number"):
                segments.append(("MAN", ["CP", package["tracking_number"][:48]]))
            for content in package["contents"]:
                segments += item(
                    pack, content["sku"], content["quantity"], uom_by_sku.get(content["sku"])
                )
    else:
        for line in document["lines"]:
            segments += item(2, line["sku"], line["quantity_shipped"], line.get("uom"))
    segments.append(("CTT", [str(number)]))
    return segments


# --- inbound --------------------------------------------------------------------------------


def _elements(segment):
    """A segment's elements padded so ``e[n]`` is element n (1-based) or ""."""
    return ["", *segment.elements, *[""] * 30]


def _product_id(pairs, preferred=("SK", "VN", "BP", "UP", "IN")):
    """The SKU among qualifier/ID pairs: SK first, then other product IDs."""
    found = {qualifier: value for qualifier, value in pairs if qualifier and value}
    for qualifier in preferred:
        if qualifier in found:
            return found[qualifier]
    return next(iter(found.values()), None)


def shipment_from_945(segments):
    """``shipment/1`` from a 945's segments (ST..SE)."""
    document = {"schema": "shipment/1", "tracking_numbers": [], "lines": []}
    packages = []
    line = None
    shipped_date = shipped_time = None
    for segment in segments:
        e = _elements(segment)
        tag = segment.tag
        if tag == "W06":
            document["order_reference"] = e[2]
            document["reference"] = e[4] or e[2]
            shipped_date = e[3] or None
        elif tag == "N9" and line is None:
            if e[1] == "BM":
                document["bill_of_lading"] = e[2]
            elif e[1] == "CN":
                document["pro_number"] = e[2]
            elif e[1] == "2I" and e[2] not in document["tracking_numbers"]:
                document["tracking_numbers"].append(e[2])
        elif tag == "G62" and e[1] == "11":
            shipped_date, shipped_time = e[2] or shipped_date, e[4] or None
        elif tag == "W27":
            document["carrier"] = {"code": e[2] or None, "service": e[3] or None}
        elif tag == "MAN":
            if e[1] == "GM":
                packages.append({"reference": e[2], "contents": []})
            elif e[1] == "CP" and e[2] not in document["tracking_numbers"]:
                document["tracking_numbers"].append(e[2])
                if packages:
                    packages[-1]["tracking_number"] = e[2]
        elif tag == "W12":
            sku = _product_id([(e[7], e[8]), (e[18], e[19]), (e[21], e[22])]) or e[6]
            if not sku:
                raise MappingProblem(f"W12 at position {_position(segments, segment)} has no SKU")
            line = {
                "sku": sku,
                "quantity_ordered": _number(e[2]) if e[2] else None,
                "quantity_shipped": _number(e[3] or "0"),
                "uom": e[5] or None,
                "lot": e[9] or None,
                "status": e[1],
            }
            document["lines"].append(line)
            if packages:
                packages[-1]["contents"].append(
                    {"sku": sku, "quantity": line["quantity_shipped"], "lot": line["lot"]}
                )
        elif tag == "N9" and line is not None and e[1] == "LI":
            line["line_ref"] = e[2]
        elif tag == "W03" and e[2] and e[3] in WEIGHT_UNITS:
            document["weight"] = {"value": _number(e[2]), "uom": WEIGHT_UNITS[e[3]]}
    if not document.get("order_reference"):
        raise MappingProblem("W06-02 (depositor order number) is empty: which order shipped?")
    if not shipped_date:
        raise MappingProblem("neither W06-03 nor G62*11 says when the order shipped")
    document["shipped_at"] = _rfc3339(shipped_date, shipped_time)
    statuses = {line.pop("status") for line in document["lines"]}
    document["status"] = "partial" if statuses & BACK_ORDERED else "complete"
    if packages:
        document["packages"] = packages
    if not document["tracking_numbers"]:
        del document["tracking_numbers"]
    return document


def receipt_from_944(segments):
    """``receipt/1`` (stage received) from a 944's segments."""
    document = {"schema": "receipt/1", "stage": "received", "lines": []}
    line = None
    for segment in segments:
        e = _elements(segment)
        tag = segment.tag
        if tag == "W17":
            document["reference"] = e[4]
            document["receipt_reference"] = e[3] or None
            document["received_at"] = _rfc3339(e[2], e[7] or None)
        elif tag == "W07":
            sku = _product_id([(e[4], e[5]), (e[6], e[7]), (e[10], e[11])]) or e[3]
            if not sku:
                raise MappingProblem(f"W07 at position {_position(segments, segment)} has no SKU")
            line = {
                "sku": sku,
                "quantity_received": _number(e[1]),
                "uom": e[2] or None,
                "lot": e[8] or None,
            }
            document["lines"].append(line)
        elif tag == "W13" and line is not None:
            line["quantity_damaged"] = line.get("quantity_damaged", 0) + _number(e[1])
        elif tag == "N9" and line is not None and e[1] == "LI":
            line["line_ref"] = e[2]
    if not document.get("reference"):
        raise MappingProblem("W17-04 (depositor order number) is empty: which receipt is it?")
    return document


def inventory_from_846(segments, default_warehouse=None):
    """``inventory_snapshot/1`` from an 846's segments."""
    document = {"schema": "inventory_snapshot/1", "complete": True, "items": []}
    item = None
    warehouse = None
    for segment in segments:
        e = _elements(segment)
        tag = segment.tag
        if tag == "BIA":
            document["reference"] = e[3]
            document["taken_at"] = _rfc3339(e[4], e[5] or None)
        elif tag == "N1" and item is None and e[1] in ("WH", "SN", "RL"):
            warehouse = e[4] or e[2] or warehouse
        elif tag == "LIN":
            pairs = [(e[i], e[i + 1]) for i in range(2, 31, 2)]
            sku = _product_id(pairs)
            item = {"sku": sku, "on_hand": 0}
            document["items"].append(item)
        elif tag == "QTY" and item is not None:
            quantity = _number(e[2] or "0")
            if e[1] == "17":
                item["on_hand"] = quantity
            elif e[1] == "33":
                item["available"] = quantity
            if e[3]:
                item["uom"] = e[3].split(">")[0] if ">" in e[3] else e[3]
    document["warehouse_code"] = warehouse or default_warehouse
    if not document["warehouse_code"]:
        raise MappingProblem(
            "the 846 names no warehouse (N1*WH) and the partner has no default warehouse code"
        )
    return document


# AT7-01 shipment status (element 1650) -> tracking_event/1 status
AT7_STATUS = {
    "X3": "in_transit",  # arrived at pick-up location
    "AF": "in_transit",  # departed pick-up location
    "X6": "in_transit",  # en route to delivery location
    "X4": "in_transit",  # arrived at terminal
    "P1": "in_transit",  # departed terminal
    "J1": "in_transit",  # delivered to connecting line
    "AG": "in_transit",  # estimated delivery
    "X1": "out_for_delivery",  # arrived at delivery location
    "AJ": "out_for_delivery",  # tendered for delivery
    "D1": "delivered",  # completed unloading at delivery location
    "CD": "delivered",  # carrier departed delivery location
    "SD": "exception",  # shipment delayed
    "A9": "exception",  # shipment damaged
    "AP": "exception",  # delivery not completed
    "A7": "exception",  # refused by consignee
    "CA": "cancelled",  # shipment cancelled
}
# AT7-07 time code (element 623) -> UTC offset
TIME_CODES = {
    "UT": "+00:00",
    "GM": "+00:00",
    "ET": "-05:00",
    "ES": "-05:00",
    "ED": "-04:00",
    "CT": "-06:00",
    "CS": "-06:00",
    "CD": "-05:00",
    "MT": "-07:00",
    "MS": "-07:00",
    "MD": "-06:00",
    "PT": "-08:00",
    "PS": "-08:00",
    "PD": "-07:00",
}


def tracking_events_from_214(segments):
    """``tracking_event/1`` documents, one per AT7 status of a 214."""
    events = []
    tracking = shipment = carrier = None
    location = None
    for segment in segments:
        e = _elements(segment)
        tag = segment.tag
        if tag == "B10":
            tracking, shipment, carrier = e[1] or e[2], e[2] or None, e[3] or None
        elif tag == "LX":
            location = None
        elif tag == "AT7" and e[1]:
            if not e[5]:
                raise MappingProblem(f"AT7 {e[1]} has no date (AT7-05): when did it happen?")
            time = (e[6] or "0000").ljust(6, "0")[:6]
            offset = TIME_CODES.get(e[7], "+00:00")
            occurred = f"{e[5][:4]}-{e[5][4:6]}-{e[5][6:8]}T{time[:2]}:{time[2:4]}:{time[4:6]}"
            event = {
                "schema": "tracking_event/1",
                "tracking_number": tracking,
                "carrier": carrier,
                "shipment_reference": shipment,
                "status": AT7_STATUS.get(e[1], "in_transit"),
                "partner_status": e[1],
                "reason": e[2] or None,
                "occurred_at": occurred + offset,
                "event_id": f"{tracking}:{e[1]}:{e[5]}{time}",
            }
            events.append(event)
            location = event
        elif tag == "MS1" and location is not None:
            location["location"] = {
                "city": e[1] or None,
                "state": e[2] or None,
                "country": e[3] if len(e[3]) == 2 else None,
            }
    if not tracking:
        raise MappingProblem("B10 carries neither a PRO/tracking number nor a shipment ID")
    if not events:
        raise MappingProblem("the 214 has no shipment status (AT7)")
    return events


def freight_invoice_from_210(segments, default_currency="USD"):
    """``freight_invoice/1`` from a 210 (one shipment per invoice)."""
    document = {"schema": "freight_invoice/1", "currency": default_currency}
    charges = []
    weight = None
    shipment = None
    for segment in segments:
        e = _elements(segment)
        tag = segment.tag
        if tag == "B3":
            document["invoice_number"] = e[2]
            shipment = e[3] or None
            document["invoice_date"] = f"{e[6][:4]}-{e[6][4:6]}-{e[6][6:8]}"
            document["total_amount"] = int(e[7]) / 100
            document["carrier"] = {"code": e[11]}
            document["is_correction"] = bool(e[8])
        elif tag == "C3":
            document["currency"] = e[1]
        elif tag == "L1" and e[4]:
            charges.append(
                {
                    "code": e[8] or None,
                    "rate": _number(e[2]) if e[2] else None,
                    "rate_qualifier": e[3] or None,
                    "amount": int(e[4]) / 100,
                }
            )
        elif tag == "L3" and e[1] and e[12] in ("L", "K"):
            weight = {"value": _number(e[1]), "uom": "lb" if e[12] == "L" else "kg"}
    if not shipment:
        raise MappingProblem("B3-03 (shipment ID) is empty: which shipment is invoiced?")
    line = {"shipment_reference": shipment, "amount": document["total_amount"]}
    if charges:
        line["charges"] = charges
    if weight:
        line["weight"] = weight
    document["lines"] = [line]
    return document


def acknowledgements_from_997(segments):
    """One result per acknowledged group: ``{"group": GS06, "functional_id": GS01,
    "status": ..., "sets": [{"set_id", "control_number", "status", "errors": [...]}],
    "errors": [...]}``. Statuses are canonical: accepted, partial, rejected."""
    results = []
    group = current = None
    finding = None
    for segment in segments:
        e = _elements(segment)
        tag = segment.tag
        if tag == "AK1":
            group = {"functional_id": e[1], "group": e[2], "sets": [], "errors": []}
            results.append(group)
        elif tag == "AK2" and group is not None:
            current = {"set_id": e[1], "control_number": e[2], "errors": []}
            group["sets"].append(current)
            finding = None
        elif tag == "AK3" and current is not None:
            finding = f"segment {e[1]} at position {e[2]}"
            words = SEGMENT_ERRORS.get(e[4], f"error {e[4]}") if e[4] else "has errors"
            current["errors"].append({"code": f"AK3:{e[4]}", "message": f"{finding}: {words}"})
        elif tag == "AK4" and current is not None:
            where = f"{finding}, element {e[1].split('>')[0]}" if finding else f"element {e[1]}"
            words = ELEMENT_ERRORS.get(e[3], f"error {e[3]}")
            bad = f" (received {e[4]!r})" if e[4] else ""
            current["errors"].append({"code": f"AK4:{e[3]}", "message": f"{where}: {words}{bad}"})
        elif tag == "AK5" and current is not None:
            current["status"] = ACK_STATUS.get(e[1], "rejected")
            for code in e[2:7]:
                if code:
                    current["errors"].append(
                        {"code": f"AK5:{code}", "message": SET_ERRORS.get(code, f"error {code}")}
                    )
        elif tag == "AK9" and group is not None:
            group["status"] = ACK_STATUS.get(e[1], "rejected")
            group["included"], group["received"], group["accepted"] = e[2], e[3], e[4]
            for code in e[5:10]:
                if code:
                    group["errors"].append(
                        {"code": f"AK9:{code}", "message": GROUP_ERRORS.get(code, f"error {code}")}
                    )
    return results


def _position(segments, segment):
    return next((i for i, s in enumerate(segments, start=1) if s is segment), "?")
