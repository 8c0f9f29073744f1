"""The plain functions of the addon (no database): status rules, ShipBob and CSV mapping."""

import doctest

import pytest

from odoo.addons.logistics_connector_3pl.lib import flatfile, shipbob, status
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
