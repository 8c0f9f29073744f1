"""Canonical document schemas: valid examples pass, broken ones get readable errors."""

import copy
import json

import pytest
from jsonschema import Draft202012Validator

from odoo.addons.logistics_connector_base.lib import canonical
from odoo.addons.logistics_connector_base.lib.errors import DocumentValidationError


def order_release():
    return {
        "schema": "order_release/1",
        "reference": "WH/OUT/00042",
        "correlation_id": "c0ffee00-0000-4000-8000-000000000042",
        "origin": "S00042",
        "warehouse_code": "3PL-EAST",
        "ship_to": {
            "name": "Deco Addict",
            "street": "77 Santa Barbara Rd",
            "city": "Pleasant Hill",
            "state": "CA",
            "zip": "94523",
            "country": "US",
            "phone": None,
        },
        "carrier": {"code": "UPSN", "service": "ground"},
        "requested_ship_date": "2025-03-03",
        "lines": [
            {"line_ref": "1", "sku": "FURN_7777", "quantity": 2, "uom": "Units"},
            {"line_ref": "2", "sku": "FURN_8888", "quantity": 0.5, "uom": "kg", "lot": "L-1"},
        ],
    }


def shipment():
    return {
        "schema": "shipment/1",
        "reference": "SHP-1001",
        "order_reference": "WH/OUT/00042",
        "status": "partial",
        "shipped_at": "2025-03-03T16:20:00Z",
        "carrier": {"code": "UPSN", "service": "ground"},
        "tracking_numbers": ["1Z999AA10123456784"],
        "packages": [
            {
                "reference": "00012345600000000018",
                "tracking_number": "1Z999AA10123456784",
                "weight": {"value": 3.2, "uom": "kg"},
                "contents": [{"line_ref": "1", "sku": "FURN_7777", "quantity": 1}],
            }
        ],
        "lines": [
            {"line_ref": "1", "sku": "FURN_7777", "quantity_ordered": 2, "quantity_shipped": 1},
            {"line_ref": "2", "sku": "FURN_8888", "quantity_shipped": 0},
        ],
    }


def inventory_snapshot():
    return {
        "schema": "inventory_snapshot/1",
        "reference": "846-0001",
        "warehouse_code": "3PL-EAST",
        "taken_at": "2025-03-03T06:00:00+01:00",
        "complete": True,
        "items": [
            {"sku": "FURN_7777", "on_hand": 40, "available": 35, "committed": 5},
            {"sku": "FURN_8888", "lot": "L-1", "expiry_date": "2026-01-31", "on_hand": 0},
        ],
    }


def receipt():
    return {
        "schema": "receipt/1",
        "reference": "WH/IN/00007",
        "stage": "received",
        "receipt_reference": "RCV-88",
        "received_at": "2025-03-04T09:00:00-05:00",
        "lines": [
            {"line_ref": "1", "sku": "FURN_7777", "quantity_received": 9, "quantity_damaged": 1},
        ],
    }


def asn():
    return {
        "schema": "receipt/1",
        "reference": "WH/IN/00008",
        "stage": "expected",
        "expected_date": "2025-03-10",
        "lines": [{"line_ref": "1", "sku": "FURN_7777", "quantity_expected": 10}],
    }


def return_():
    return {
        "schema": "return/1",
        "reference": "RMA-0003",
        "original_order_reference": "WH/OUT/00042",
        "status": "arrived",
        "updated_at": "2025-03-12T10:00:00Z",
        "customer": {"name": "Deco Addict", "country": "US"},
        "lines": [
            {"sku": "FURN_7777", "quantity": 1, "disposition": "restock", "reason": "too big"},
            {"sku": "FURN_8888", "quantity": 1, "disposition": None},
        ],
    }


def tracking_event():
    return {
        "schema": "tracking_event/1",
        "tracking_number": "1Z999AA10123456784",
        "event_id": "evt_123",
        "carrier": "UPSN",
        "status": "out_for_delivery",
        "partner_status": "OFD",
        "occurred_at": "2025-03-05T07:45:00-08:00",
        "location": {"city": "Pleasant Hill", "state": "CA", "country": "US"},
    }


def freight_invoice():
    return {
        "schema": "freight_invoice/1",
        "invoice_number": "INV-5531",
        "carrier": {"code": "ODFL", "name": "Old Dominion"},
        "invoice_date": "2025-03-31",
        "currency": "USD",
        "total_amount": 245.5,
        "lines": [
            {
                "shipment_reference": "WH/OUT/00042",
                "pro_number": "0123456789",
                "amount": 245.5,
                "currency": "USD",
                "weight": {"value": 120, "uom": "lb"},
                "charges": [
                    {"code": "400", "description": "freight", "amount": 220.0},
                    {"code": "FSC", "description": "fuel surcharge", "amount": 25.5},
                ],
            }
        ],
    }


def ack():
    return {
        "schema": "ack/1",
        "acknowledged_reference": "WH/OUT/00042",
        "acknowledged_schema": "order_release/1",
        "status": "partial",
        "partner_reference": "SB-778899",
        "errors": [{"code": "W12", "message": "line 2 back-ordered", "line_ref": "2"}],
    }


VALID = {
    "order_release": order_release,
    "shipment": shipment,
    "inventory_snapshot": inventory_snapshot,
    "receipt": receipt,
    "return": return_,
    "tracking_event": tracking_event,
    "freight_invoice": freight_invoice,
    "ack": ack,
}


def broken(factory, change):
    document = copy.deepcopy(factory())
    change(document)
    return canonical.validate(document)


def test_every_schema_is_shipped_and_valid_draft_2020_12():
    assert set(canonical.SCHEMA_NAMES) == set(VALID)
    for name in canonical.SCHEMA_NAMES:
        schema = canonical.load_schema(name)
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["properties"]["schema"] == {"const": f"{name}/1"}
        assert canonical.known_versions(name) == [1]


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_documents_pass(name):
    document = VALID[name]()
    assert canonical.validate(document) == []
    assert canonical.check(document) is document
    # a canonical document survives a JSON round trip unchanged
    assert canonical.validate(json.loads(json.dumps(document))) == []


def test_asn_stage_expected_is_valid():
    assert canonical.validate(asn()) == []


def test_order_release_errors():
    def change(doc):
        doc["lines"][0]["quantity"] = 0
        del doc["ship_to"]["country"]
        doc["lines"][1]["sku"] = 42
        doc["warehouse"] = "typo"

    assert broken(order_release, change) == [
        "lines[0].quantity: 0 is less than the minimum of 0.001",
        "lines[1].sku: 42 is not of type 'string'",
        "missing required field 'ship_to.country'",
        "unexpected field 'warehouse'",
    ]


def test_order_release_needs_lines_and_valid_dates():
    def change(doc):
        doc["lines"] = []
        doc["requested_ship_date"] = "03/03/2025"
        doc["ship_to"]["country"] = "usa"
        doc["action"] = "delete"

    assert broken(order_release, change) == [
        "action: 'delete' is not one of ['create', 'update', 'cancel']",
        "lines: must not be empty",
        "requested_ship_date: '03/03/2025' is not a valid date (YYYY-MM-DD)",
        "ship_to.country: 'usa' does not match '^[A-Z]{2}$'",
    ]


def test_shipment_errors():
    def change(doc):
        doc["shipped_at"] = "2025-03-03T16:20:00"  # no UTC offset: ambiguous
        doc["lines"][0]["quantity_shipped"] = -1
        doc["tracking_numbers"] = ["1Z", "1Z"]
        del doc["order_reference"]
        doc["packages"][0]["contents"][0]["quantity"] = "1"

    assert broken(shipment, change) == [
        "lines[0].quantity_shipped: -1 is less than the minimum of 0",
        "missing required field 'order_reference'",
        "packages[0].contents[0].quantity: '1' is not of type 'number'",
        "shipped_at: '2025-03-03T16:20:00' is not a valid date-time (RFC 3339 with a UTC "
        "offset, e.g. 2025-03-01T14:05:00+01:00)",
        "tracking_numbers: ['1Z', '1Z'] has non-unique elements",
    ]


def test_shipment_rejects_impossible_dates():
    def change(doc):
        doc["shipped_at"] = "2025-02-30T10:00:00Z"

    assert broken(shipment, change) == [
        "shipped_at: '2025-02-30T10:00:00Z' is not a valid date-time (RFC 3339 with a UTC "
        "offset, e.g. 2025-03-01T14:05:00+01:00)"
    ]


def test_inventory_snapshot_errors():
    def change(doc):
        doc["items"][0]["on_hand"] = -3
        del doc["items"][1]["sku"]
        doc["complete"] = "yes"
        del doc["taken_at"]

    assert broken(inventory_snapshot, change) == [
        "complete: 'yes' is not of type 'boolean'",
        "items[0].on_hand: -3 is less than the minimum of 0",
        "missing required field 'items[1].sku'",
        "missing required field 'taken_at'",
    ]


def test_receipt_received_needs_quantities_and_date():
    def change(doc):
        del doc["received_at"]
        del doc["lines"][0]["quantity_received"]
        doc["lines"][0]["quantity_damaged"] = -1

    assert broken(receipt, change) == [
        "lines[0].quantity_damaged: -1 is less than the minimum of 0",
        "missing required field 'lines[0].quantity_received'",
        "missing required field 'received_at'",
    ]


def test_receipt_expected_needs_expected_quantity():
    def change(doc):
        doc["lines"][0] = {"sku": "FURN_7777"}
        doc["stage"] = "expected"

    assert broken(asn, change) == ["missing required field 'lines[0].quantity_expected'"]

    def bad_stage(doc):
        doc["stage"] = "shipped"

    assert broken(asn, bad_stage) == ["stage: 'shipped' is not one of ['expected', 'received']"]


def test_return_errors():
    def change(doc):
        doc["status"] = "lost"
        doc["lines"][0]["disposition"] = "burn"
        doc["lines"][1]["quantity"] = 0

    assert broken(return_, change) == [
        "lines[0].disposition: 'burn' is not one of [None, 'pending', 'restock', "
        "'quarantine', 'damaged', 'dispose', 'return_to_vendor']",
        "lines[1].quantity: 0 is less than the minimum of 0.001",
        "status: 'lost' is not one of ['announced', 'awaiting_arrival', 'arrived', "
        "'processing', 'completed', 'cancelled']",
    ]


def test_tracking_event_errors():
    def change(doc):
        doc["status"] = "teleported"
        doc["occurred_at"] = "yesterday"
        doc["tracking_number"] = ""
        doc["location"]["country"] = "United States"

    assert broken(tracking_event, change) == [
        "location.country: 'United States' does not match '^[A-Z]{2}$'",
        "occurred_at: 'yesterday' is not a valid date-time (RFC 3339 with a UTC offset, "
        "e.g. 2025-03-01T14:05:00+01:00)",
        "status: 'teleported' is not one of ['label_created', 'in_transit', "
        "'out_for_delivery', 'available_for_pickup', 'delivered', 'exception', 'returned', "
        "'cancelled']",
        "tracking_number: '' should be non-empty",
    ]


def test_freight_invoice_errors():
    def change(doc):
        doc["currency"] = "usd"
        del doc["carrier"]["code"]
        doc["lines"][0]["amount"] = "245.50"
        del doc["lines"][0]["shipment_reference"]
        doc["total_amount"] = None

    assert broken(freight_invoice, change) == [
        "currency: 'usd' does not match '^[A-Z]{3}$'",
        "lines[0].amount: '245.50' is not of type 'number'",
        "missing required field 'carrier.code'",
        "missing required field 'lines[0].shipment_reference'",
        "total_amount: None is not of type 'number'",
    ]


def test_ack_rejection_must_say_why():
    def change(doc):
        doc["status"] = "rejected"
        del doc["errors"]

    assert broken(ack, change) == ["missing required field 'errors'"]

    def empty_errors(doc):
        doc["status"] = "rejected"
        doc["errors"] = []

    assert broken(ack, empty_errors) == ["errors: must not be empty"]

    def accepted(doc):
        doc["status"] = "accepted"
        del doc["errors"]

    assert broken(ack, accepted) == []

    def bad_status(doc):
        doc["status"] = "ok"
        doc["errors"][0] = {"code": "X"}

    assert broken(ack, bad_status) == [
        "missing required field 'errors[0].message'",
        "status: 'ok' is not one of ['accepted', 'rejected', 'partial']",
    ]


def test_schema_reference_is_checked():
    assert canonical.validate({"reference": "x"}) == ["missing required field 'schema'"]
    known = (
        "known schemas: order_release/1, shipment/1, inventory_snapshot/1, receipt/1, "
        "return/1, tracking_event/1, freight_invoice/1, ack/1"
    )
    assert canonical.validate({"schema": "order_release/7"}) == [
        f"unknown schema 'order_release/7' ({known})"
    ]
    assert canonical.validate({"schema": "invoice/1"}) == [f"unknown schema 'invoice/1' ({known})"]
    assert canonical.validate({"schema": "order_release"}) == [
        f"schema must look like '<name>/<version>', got 'order_release' ({known})"
    ]
    assert canonical.validate(["not", "a", "dict"]) == ["document must be a JSON object, got list"]
    # the schema field must match the file it is validated against
    doc = shipment()
    doc["schema"] = "order_release/1"
    errors = canonical.validate(doc)
    assert "missing required field 'warehouse_code'" in errors
    assert "unexpected field 'shipped_at'" in errors


def test_check_raises_with_the_first_errors():
    document = {"schema": "order_release/1", "lines": [{}]}
    with pytest.raises(DocumentValidationError) as caught:
        canonical.check(document)
    error = caught.value
    assert error.error_class == "validation"
    assert error.errors == [
        "missing required field 'lines[0].line_ref'",
        "missing required field 'lines[0].quantity'",
        "missing required field 'lines[0].sku'",
        "missing required field 'lines[0].uom'",
        "missing required field 'reference'",
        "missing required field 'ship_to'",
        "missing required field 'warehouse_code'",
    ]
    assert error.message == (
        "the order_release/1 document is not valid: missing required field "
        "'lines[0].line_ref'; missing required field 'lines[0].quantity'; missing required "
        "field 'lines[0].sku'; missing required field 'lines[0].uom'; missing required field "
        "'reference' (and 2 more)"
    )
    assert error.details["schema"] == "order_release/1"


def test_long_values_are_cut_in_messages():
    doc = order_release()
    doc["lines"] = {"huge": "x" * 5000}
    [error] = canonical.validate(doc)
    assert error.startswith("lines: {'huge': 'xxx")
    assert error.endswith("...")
    assert len(error) <= canonical.MAX_MESSAGE_LENGTH


def test_load_schema_returns_a_private_copy():
    schema = canonical.load_schema("ack")
    schema["required"].append("nonsense")
    assert "nonsense" not in canonical.load_schema("ack")["required"]
    assert canonical.validate(ack()) == []
    with pytest.raises(ValueError):
        canonical.load_schema("nope")
    with pytest.raises(ValueError):
        canonical.load_schema("ack", version=2)


def test_schema_ref_helpers():
    assert canonical.schema_ref("tracking_event") == "tracking_event/1"
    assert canonical.parse_schema_ref("freight_invoice/1") == ("freight_invoice", 1)
    with pytest.raises(ValueError):
        canonical.parse_schema_ref("freight_invoice/v1")


@pytest.mark.parametrize(
    "occurred_at",
    ["2026-11-20t10:00:00z", "2026-11-20T10:00:00z", "2026-11-20 10:00:00Z"],
)
def test_rfc3339_lower_case_separators_are_accepted_and_read(occurred_at):
    document = {**tracking_event(), "occurred_at": occurred_at}
    assert canonical.validate(document) == []
    assert canonical.parse_date_time(occurred_at).isoformat() == "2026-11-20T10:00:00+00:00"


@pytest.mark.parametrize("occurred_at", ["0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00"])
def test_date_times_beyond_utc_are_refused_with_the_field_named(occurred_at):
    document = {**tracking_event(), "occurred_at": occurred_at}
    assert canonical.validate(document) == [
        f"occurred_at: {occurred_at!r} is not a valid date-time (RFC 3339 with a UTC offset, "
        "e.g. 2025-03-01T14:05:00+01:00)"
    ]


def test_edge_years_with_a_harmless_offset_pass():
    for occurred_at in ("0001-01-01T00:30:00-01:00", "9999-12-31T23:30:00+01:00"):
        assert canonical.validate({**tracking_event(), "occurred_at": occurred_at}) == []


def test_values_that_would_break_storage_are_refused_with_the_field_named():
    document = order_release()
    document["lines"][0]["quantity"] = float("nan")
    document["lines"][0]["unit_price"] = float("inf")
    document["ship_to"]["city"] = "Pleasant\x00Hill"
    problems = canonical.validate(document)
    assert "lines[0].quantity: nan is not a finite number" in problems
    assert "lines[0].unit_price: inf is not a finite number" in problems
    assert "ship_to.city: contains a NUL character" in problems
    with pytest.raises(DocumentValidationError, match="not a finite number"):
        canonical.check(document)


def test_a_document_found_valid_is_checked_again_once_changed():
    document = VALID["order_release"]()
    assert canonical.check(document) is document
    assert canonical.check(copy.deepcopy(document)) is not None  # remembered: same content
    document["lines"][0]["quantity"] = 0
    with pytest.raises(DocumentValidationError, match="quantity"):
        canonical.check(document)


def test_a_whole_count_is_not_remembered():
    document = VALID["inventory_snapshot"]()
    item = document["items"][0]
    document["items"] = [dict(item, sku=f"SKU-{n}") for n in range(1001)]
    before = len(canonical._recently_valid)
    assert canonical.check(document) is document
    assert len(canonical._recently_valid) == before
