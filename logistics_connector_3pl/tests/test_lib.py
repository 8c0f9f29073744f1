"""The plain functions of the addon (no database): status rules, ShipBob and CSV mapping."""

import doctest

import pytest

from odoo.addons.logistics_connector_3pl.lib import extensiv, flatfile, shipbob, status
from odoo.addons.logistics_connector_base.lib import canonical
from odoo.addons.logistics_connector_base.lib.errors import DocumentValidationError

LAYOUT = {"delimiter": ";", "header": True, "columns": [("Ord", "order_reference"),
          ("Shp", "reference"), ("Sku", "sku"), ("Qty", "quantity_shipped"), ("Lot", "lot"),
          ("Trk", "tracking_number")]}  # fmt: skip


def test_status_rules_doctests():
    assert doctest.testmod(status).failed == 0


def test_status_never_moves_back_and_trouble_follows_time():
    assert not status.may_change("packed", 5, "picked", 6)
    assert status.may_change("exception", 5, "picked", 6)
    assert not status.may_change("cancelled", 1, "acknowledged", 2)
    assert status.may_change("partially_shipped", 1, "shipped", 0)


def test_a_split_order_gives_one_shipment_per_label_the_last_complete():
    order = {
        "id": 7,
        "reference_id": "WH/OUT/1",
        "status": "Fulfilled",
        "shipments": [
            {
                "id": 2,
                "status": "Completed",
                "tracking": {"tracking_number": "T2", "shipping_date": "2026-01-02T00:00:00Z"},
                "products": [
                    {
                        "reference_id": "A",
                        "external_line_id": 11,
                        "quantity": 1,
                        "inventory_items": [{"quantity": 1, "lot": "L"}],
                    }
                ],
            },
            {
                "id": 1,
                "status": "Completed",
                "tracking": {"tracking_number": "T1", "shipping_date": "2026-01-01T00:00:00Z"},
                "parent_cartons": [{"barcode": "B1", "tracking_number": "T1b", "contents": []}],
                "products": [{"reference_id": "A", "external_line_id": 11, "quantity": 2}],
            },
        ],
    }
    first, last = shipbob.shipments_of(order, "2026-01-03T00:00:00Z")
    assert (first["reference"], first["status"], last["status"]) == ("1", "partial", "complete")
    assert first["tracking_numbers"] == ["T1", "T1b"]
    assert last["lines"] == [{"line_ref": "11", "sku": "A", "quantity_shipped": 1, "lot": "L"}]
    for document in (first, last):
        canonical.check(document)


def test_shipbob_takes_whole_units_only():
    with pytest.raises(DocumentValidationError, match="whole units"):
        shipbob.whole_units(1.5, "WH/OUT/1 A")


def test_csv_rows_group_into_shipments_by_order_and_shipment():
    text = "Ord;Shp;Sku;Qty;Lot;Trk\r\nO1;S1;A;2;L1;T1\r\nO1;S1;A;1;L1;T2\r\nO2;S2;B;1;;T3\r\n"
    one, two = flatfile.parse(text, LAYOUT, "shipment", "2026-01-01T00:00:00Z")
    assert one["lines"] == [
        {"line_ref": None, "sku": "A", "lot": "L1", "uom": None, "quantity_shipped": 3}
    ]
    assert one["tracking_numbers"] == ["T1", "T2"]
    assert two["order_reference"] == "O2"
    canonical.check(one)


def test_csv_problems_are_said_in_plain_words():
    with pytest.raises(DocumentValidationError, match="header lacks the column"):
        flatfile.parse("Ord;Sku\r\nO1;A\r\n", LAYOUT, "shipment", "2026-01-01T00:00:00Z")
    with pytest.raises(DocumentValidationError, match="Row 2: quantity_shipped 'x'"):
        flatfile.parse("Ord;Shp;Sku;Qty;Lot;Trk\r\nO1;S1;A;x;;\r\n", LAYOUT, "shipment", "t")


def test_shipment_topics_carry_one_shipment_and_the_sandbox_topics_are_kept_apart():
    hold = {
        "type": "order.shipment.on_hold",
        "timestamp": "2026-01-02T00:00:00Z",
        "data": {
            "id": 55,
            "order_id": 7,
            "reference_id": "WH/OUT/1",
            "status": "OnHold",
            "status_details": [{"name": "OnHold", "description": "Missing tariff code"}],
        },
    }
    [ack] = shipbob.documents_of(hold)
    assert ack["partner_reference"] == "7"
    assert ack["extensions"]["warehouse_status"] == "on_hold"
    assert ack["extensions"]["reason"] == "Missing tariff code"
    delivered = {
        "type": "order.shipment.delivered",
        "timestamp": "2026-01-03T00:00:00Z",
        "data": {
            "id": 55,
            "reference_id": "WH/OUT/1",
            "tracking": {"tracking_number": "1Z1", "carrier": "UPS"},
            "delivery_date": "2026-01-03T00:00:00Z",
        },
    }
    [event] = shipbob.documents_of(delivered)
    assert (event["tracking_number"], event["status"]) == ("1Z1", "delivered")
    assert set(shipbob.PUBLIC_TOPICS).isdisjoint(shipbob.SANDBOX_TOPIC_FLOWS)
    assert shipbob.flow_for_topic("order.picked") == "ack"
    assert shipbob.flow_for_topic("order.on_hold") == "webhook", "not a ShipBob topic"


def _receiver(status=1, items=()):
    return {
        "referenceNum": "WH/IN/7",
        "poNum": "P7",
        "facilityIdentifier": {"id": 3},
        "readOnly": {
            "receiverId": 801,
            "status": status,
            "isClosed": True,
            "lastModifiedDate": "2026-01-02T00:00:00.000Z",
        },
        "receiveItems": [
            {"itemIdentifier": {"sku": sku}, "qty": qty, "lotNumber": lot, "qualifier": qualifier}
            for sku, qty, lot, qualifier in items
        ],
    }


def test_extensiv_receipt_counts_damaged_units_by_qualifier():
    receipt = extensiv.receipt_of(
        _receiver(items=[("A", 7, None, ""), ("A", 2, None, "DMG"), ("B", 3, "L1", "")])
    )
    canonical.check(receipt)
    assert receipt["lines"] == [
        {"sku": "A", "lot": None, "quantity_received": 7, "quantity_damaged": 2},
        {"sku": "B", "lot": "L1", "quantity_received": 3, "quantity_damaged": 0},
    ]
    assert receipt["receipt_reference"] == "EXT-R801"


def test_extensiv_return_dispositions_and_cancellation():
    done = extensiv.return_of(
        _receiver(items=[("A", 2, None, ""), ("A", 1, None, "DMG"), ("A", 1, None, "QC")])
    )
    canonical.check(done)
    assert [(line["disposition"], line["quantity"]) for line in done["lines"]] == [
        ("restock", 2),
        ("damaged", 1),
        ("quarantine", 1),
    ]
    assert done["original_order_reference"] == "P7"
    cancelled = extensiv.return_of(_receiver(status=2, items=[("A", 4, None, "")]))
    assert cancelled["status"] == "cancelled"
    assert cancelled["lines"][0]["quantity_received"] == 0


def test_extensiv_snapshot_sums_rows_by_lot_without_damaged_units():
    rows = [
        {"itemIdentifier": {"sku": "A"}, "onHand": 4, "available": 3, "lotNumber": "L1"},
        {"itemIdentifier": {"sku": "A"}, "onHand": 2, "available": 2, "lotNumber": "L1"},
        {"itemIdentifier": {"sku": "A"}, "onHand": 5, "qualifier": "DMG"},
        {"itemIdentifier": {"sku": "B"}, "onHand": 1},
    ]
    snapshot = extensiv.snapshot_of(rows, 3, "2026-01-02T00:00:00Z")
    canonical.check(snapshot)
    assert snapshot["items"] == [
        {"sku": "A", "lot": "L1", "on_hand": 6, "available": 5},
        {"sku": "B", "lot": None, "on_hand": 1, "available": 0},
    ]
    with pytest.raises(DocumentValidationError, match="stock detail lacks"):
        extensiv.snapshot_of([{"onHand": 1}], 3, "2026-01-02T00:00:00Z")
    with pytest.raises(DocumentValidationError, match="receiver lacks"):
        extensiv.receipt_of(_receiver(items=[]))
