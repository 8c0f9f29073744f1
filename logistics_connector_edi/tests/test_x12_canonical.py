"""Canonical documents <-> X12 sets: what the adapter sends and what it makes of what it
receives, checked against the engine and the base's JSON schemas (no database needed)."""

import pytest

from odoo.addons.logistics_connector_base.lib import canonical

from ..lib import canonical_x12
from ..x12 import FunctionalGroup, Interchange, Serializer, TransactionSet, X12Reader, validate
from .x12_samples import INVENTORY_846, RECEIPT_944, SHIPMENT_945, x12

ORDER = {
    "schema": "order_release/1",
    "reference": "WH/OUT/00042",
    "action": "create",
    "po_reference": "PO-7",
    "origin": "S00042",
    "warehouse_code": "SBX-WH1",
    "ship_to": {
        "name": "Ada Customer",
        "street": "1 Loop Road",
        "street2": "Suite 2",
        "city": "Localhost",
        "state": "IL",
        "zip": "12345",
        "country": "US",
        "phone": "555-0100",
    },
    "carrier": {"code": "UPSN", "service": "Ground"},
    "requested_ship_date": "2026-12-01",
    "notes": "Leave at the back door",
    "lines": [
        {"line_ref": "17", "sku": "WIDGET-1", "quantity": 3.0, "uom": "EA", "description": "W"},
        {"line_ref": "18", "sku": "GADGET-1", "quantity": 1.5, "uom": "CA", "lot": "L7"},
    ],
}


def sets_of(text):
    return list(X12Reader(text))


def test_order_release_becomes_a_valid_940():
    canonical.check(ORDER)
    body = canonical_x12.order_release_to_940(ORDER)
    interchange = Interchange(
        "ZZ",
        "OURCOMPANY",
        "ZZ",
        "PARTNER3PL",
        1,
        groups=[FunctionalGroup("OW", "A", "B", 1, sets=[TransactionSet("940", 1, body)])],
    )
    text = Serializer().serialize(interchange)
    report = validate(text)
    assert report.status == "accepted", report.findings()
    for expected in (
        "W05*N*WH/OUT/00042*PO-7~",
        "N1*ST*Ada Customer~",
        "N3*1 Loop Road*Suite 2~",
        "N4*Localhost*IL*12345*US~",
        "PER*IC**TE*555-0100~",
        "N1*WH**91*SBX-WH1~",
        "G62*10*20261201~",
        "W66*PP*M***Ground*****UPSN~",
        "W01*3*EA**SK*WIDGET-1~\nG69*W~\nN9*LI*17~",
        "W01*1.5*CA**SK*GADGET-1********L7~",
        "W76*4.5~",
    ):
        assert expected in text
    cancel = canonical_x12.order_release_to_940({**ORDER, "action": "cancel"})
    assert cancel[0] == ("W05", ["F", "WH/OUT/00042", "PO-7"])


def test_945_becomes_a_shipment():
    [parsed] = sets_of(x12(SHIPMENT_945, functional_id="SW"))
    document = canonical_x12.shipment_from_945(parsed.segments)
    canonical.check(document)
    assert document["order_reference"] == "SO123"
    assert document["reference"] == "SHIP1"
    assert document["status"] == "partial"  # W12*BP: back-ordered
    assert document["shipped_at"] == "2025-03-06T00:00:00+00:00"
    assert document["bill_of_lading"] == "BOL123"
    assert document["carrier"] == {"code": "UPSN", "service": None}
    assert document["weight"] == {"value": 12.5, "uom": "lb"}
    assert document["lines"] == [
        {"sku": "SKU-1", "quantity_ordered": 5, "quantity_shipped": 5, "uom": "EA", "lot": None},
        {"sku": "SKU-2", "quantity_ordered": 3, "quantity_shipped": 2, "uom": "EA", "lot": "LOT7"},
    ]
    assert document["packages"][0]["reference"] == "00000123450000000018"


def test_945_without_an_order_number_is_explained():
    body = ["W06*F**20250306*SHIP1", *SHIPMENT_945[1:]]
    [parsed] = sets_of(x12(body, functional_id="SW"))
    with pytest.raises(canonical_x12.MappingProblem, match="W06-02"):
        canonical_x12.shipment_from_945(parsed.segments)


def test_944_becomes_a_receipt():
    body = [*RECEIPT_944[:-1], "W13*1*EA*DM", RECEIPT_944[-1]]
    [parsed] = sets_of(x12(body, functional_id="RE"))
    document = canonical_x12.receipt_from_944(parsed.segments)
    canonical.check(document)
    assert document["reference"] == "PO-IN-7"
    assert document["receipt_reference"] == "RCPT1"
    assert document["stage"] == "received"
    assert document["received_at"] == "2025-03-07T00:00:00+00:00"
    assert document["lines"][1] == {
        "sku": "SKU-2",
        "quantity_received": 4,
        "uom": "EA",
        "lot": "LOT9",
        "quantity_damaged": 1,
    }


def test_846_becomes_an_inventory_snapshot():
    [parsed] = sets_of(x12(INVENTORY_846, functional_id="IB"))
    with pytest.raises(canonical_x12.MappingProblem, match="names no warehouse"):
        canonical_x12.inventory_from_846(parsed.segments)
    document = canonical_x12.inventory_from_846(parsed.segments, "WH1")
    canonical.check(document)
    assert document["warehouse_code"] == "WH1"
    assert document["items"] == [
        {"sku": "SKU-1", "on_hand": 40, "available": 38},
        {"sku": "SKU-2", "on_hand": 5},
    ]
    named = [INVENTORY_846[0], "N1*WH**91*SBX-WH1", *INVENTORY_846[1:]]
    [parsed] = sets_of(x12(named, functional_id="IB"))
    assert canonical_x12.inventory_from_846(parsed.segments)["warehouse_code"] == "SBX-WH1"


def test_997_results_in_plain_words():
    body = [
        "AK1*OW*7",
        "AK2*940*0001",
        "AK3*W01*5**8",
        "AK4*2*355*7*XX",
        "AK5*R*5",
        "AK9*R*1*1*0",
    ]
    [parsed] = sets_of(x12(("997", "0001", body), functional_id="FA"))
    [group] = canonical_x12.acknowledgements_from_997(parsed.segments)
    assert (group["group"], group["functional_id"], group["status"]) == ("7", "OW", "rejected")
    messages = [e["message"] for e in group["sets"][0]["errors"]]
    assert messages == [
        "segment W01 at position 5: segment has data element errors",
        "segment W01 at position 5, element 2: invalid code value (received 'XX')",
        "one or more segments in error",
    ]


def test_expected_receipt_becomes_a_valid_943():
    document = {
        "schema": "receipt/1",
        "reference": "WH/IN/00007",
        "stage": "expected",
        "po_reference": "PO-9",
        "warehouse_code": "SBX-WH1",
        "expected_date": "2026-12-03",
        "carrier": "Blue Trucks",
        "lines": [
            {"line_ref": "31", "sku": "WIDGET-1", "uom": "EA", "quantity_expected": 4},
            {
                "line_ref": "32",
                "sku": "PAINT-LOT",
                "uom": "EA",
                "quantity_expected": 2,
                "lot": "L1",
            },
        ],
    }
    canonical.check(document)
    body = canonical_x12.receipt_to_943(document)
    group = FunctionalGroup("AR", "A", "B", 1, sets=[TransactionSet("943", 1, body)])
    text = Serializer().serialize(Interchange("ZZ", "A", "ZZ", "B", 1, groups=[group]))
    report = validate(text)
    assert report.status == "accepted", report.findings()
    for expected in (
        "W06*F*WH/IN/00007*20261203***PO-9~",
        "N1*WH**91*SBX-WH1~",
        "W27*M**Blue Trucks~",
        "W04*4*EA**SK*WIDGET-1~\nN9*LI*31~",
        "W04*2*EA**SK*PAINT-LOT***********L1~",
        "W03*6~",
    ):
        assert expected in text


def test_214_becomes_tracking_events():
    body = [
        "B10*PRO123*WH/OUT/00042*ABCD",
        "LX*1",
        "AT7*AF*NS***20261201*0930*ET",
        "MS1*Chicago*IL*US",
        "LX*2",
        "AT7*D1*NS***20261202*1415*UT",
    ]
    [parsed] = sets_of(x12(("214", "0001", body), functional_id="QM"))
    assert parsed.result.code == "A", parsed.result.words()
    first, second = canonical_x12.tracking_events_from_214(parsed.segments)
    for event in (first, second):
        canonical.check(event)
    assert (first["status"], first["occurred_at"]) == ("in_transit", "2026-12-01T09:30:00-05:00")
    assert first["location"] == {"city": "Chicago", "state": "IL", "country": "US"}
    assert (first["tracking_number"], first["carrier"]) == ("PRO123", "ABCD")
    assert first["shipment_reference"] == "WH/OUT/00042"
    assert (second["status"], second["partner_status"]) == ("delivered", "D1")
    assert second["occurred_at"] == "2026-12-02T14:15:00+00:00"


def test_210_becomes_a_freight_invoice():
    body = [
        "B3**INV-77*WH/OUT/00042*PP**20261203*12550****ABCD",
        "C3*USD",
        "LX*1",
        "L1*1*2.5*PH*10000",
        "L1*2***2550********FUE",
        "L3*120*G***12550*******L",
    ]
    [parsed] = sets_of(x12(("210", "0001", body), functional_id="IM"))
    assert parsed.result.code == "A", parsed.result.words()
    document = canonical_x12.freight_invoice_from_210(parsed.segments)
    canonical.check(document)
    assert document["invoice_number"] == "INV-77"
    assert (document["invoice_date"], document["total_amount"]) == ("2026-12-03", 125.5)
    assert document["carrier"] == {"code": "ABCD"}
    [line] = document["lines"]
    assert line["shipment_reference"] == "WH/OUT/00042"
    assert line["weight"] == {"value": 120, "uom": "lb"}
    assert [c["amount"] for c in line["charges"]] == [100.0, 25.5]


def test_shipment_becomes_a_valid_856_with_packs_and_items():
    document = {
        "schema": "shipment/1",
        "reference": "WH/OUT/00042",
        "order_reference": "S00042",
        "status": "complete",
        "shipped_at": "2026-12-04T15:30:00+00:00",
        "carrier": {"code": "UPSN"},
        "tracking_numbers": ["1Z999"],
        "weight": {"value": 3.5, "uom": "kg"},
        "packages": [
            {"reference": "PACK0001", "contents": [{"sku": "WIDGET-1", "quantity": 2}]},
            {"reference": "PACK0002", "contents": [{"sku": "GADGET-1", "quantity": 1}]},
        ],
        "lines": [
            {"sku": "WIDGET-1", "quantity_shipped": 2, "uom": "EA"},
            {"sku": "GADGET-1", "quantity_shipped": 1, "uom": "EA"},
        ],
    }
    canonical.check(document)
    body = canonical_x12.shipment_to_856(document)
    group = FunctionalGroup("SH", "A", "B", 1, sets=[TransactionSet("856", 1, body)])
    text = Serializer().serialize(Interchange("ZZ", "A", "ZZ", "B", 1, groups=[group]))
    report = validate(text)
    assert report.status == "accepted", report.findings()
    expected = (
        "BSN*00*WH/OUT/00042*20261204*1530*0001~\nHL*1**S~\nTD1******G*3.5*KG~\nTD5**2*UPSN~\n"
        "REF*CN*1Z999~\nDTM*011*20261204*1530~\nHL*2*1*O~\nPRF*S00042~\n"
        "HL*3*2*P~\nMAN*GM*PACK0001~\nHL*4*3*I~\nLIN**SK*WIDGET-1~\nSN1**2*EA~\n"
        "HL*5*2*P~\nMAN*GM*PACK0002~\nHL*6*5*I~\nLIN**SK*GADGET-1~\nSN1**1*EA~\nCTT*6~"
    )
    assert expected in text
    unpacked = canonical_x12.shipment_to_856({**document, "packages": []})
    assert ("HL", ["3", "2", "I"]) in unpacked
