"""CSV flat files <-> canonical documents, by a column layout (plain functions, no Odoo).

A layout is ``{"delimiter": ",", "header": True, "columns": [(partner header, key), ...]}``:
each column carries one canonical key (``FIELDS`` lists the keys of each document). Outbound,
an order release becomes one row per line, the order's own values repeated on each (as legacy
3PLs expect); inbound, rows are grouped into documents by their reference keys.
"""

import csv
import io

from odoo.addons.logistics_connector_base.lib.errors import DocumentValidationError

FIELDS = {
    "order_release": [
        "reference", "origin", "warehouse_code", "service", "requested_ship_date",
        "ship_to_name", "ship_to_company", "ship_to_street", "ship_to_street2", "ship_to_city",
        "ship_to_state", "ship_to_zip", "ship_to_country", "ship_to_phone", "ship_to_email",
        "line_ref", "sku", "description", "quantity", "uom",
    ],
    "receipt_notice": [
        "reference", "po_reference", "warehouse_code", "expected_date", "line_ref", "sku",
        "uom", "quantity_expected", "lot",
    ],
    "return_notice": [
        "reference", "original_order_reference", "warehouse_code", "line_ref", "sku", "uom",
        "quantity", "disposition",
    ],
    "shipment": [
        "order_reference", "reference", "shipped_at", "status", "carrier", "service",
        "tracking_number", "line_ref", "sku", "quantity_shipped", "uom", "lot", "serial",
    ],
    "inventory_snapshot": [
        "warehouse_code", "taken_at", "sku", "lot", "uom", "on_hand", "available",
    ],
    "receipt": [
        "reference", "receipt_reference", "received_at", "line_ref", "sku", "uom", "lot",
        "quantity_received", "quantity_damaged",
    ],
    "return": [
        "reference", "original_order_reference", "status", "updated_at", "line_ref", "sku",
        "uom", "lot", "quantity", "disposition",
    ],
}  # fmt: skip
NUMBERS = {"quantity", "quantity_expected", "quantity_shipped", "on_hand", "available",
           "quantity_received", "quantity_damaged"}  # fmt: skip


def _number(value, key, row_number):
    try:
        number = float(str(value).strip().replace(",", "."))
    except ValueError:
        raise DocumentValidationError(
            f"Row {row_number}: {key} '{value}' is not a number."
        ) from None
    return int(number) if number.is_integer() else number


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return int(value)  # 3, not 3.0: partners read whole units
    return value


def render(document, layout):
    """The CSV text of an outbound document (order release, receipt notice, return
    authorization): one row per line, the document's own values repeated on each."""
    ship_to = document.get("ship_to") or {}
    order = {
        **{key: value for key, value in document.items() if not isinstance(value, dict | list)},
        "service": (document.get("carrier") or {}).get("service"),
        **{f"ship_to_{key}": value for key, value in ship_to.items()},
    }
    out = io.StringIO()
    writer = csv.writer(out, delimiter=layout["delimiter"], lineterminator="\r\n")
    if layout["header"]:
        writer.writerow([header for header, _key in layout["columns"]])
    for line in document["lines"]:
        values = {**order, **line}
        writer.writerow([_cell(values.get(key)) for _header, key in layout["columns"]])
    return out.getvalue()


def read_rows(text, layout):
    """Rows as {key: value}; a header row (when the layout has one) must name every column."""
    reader = csv.reader(io.StringIO(text), delimiter=layout["delimiter"])
    rows = [row for row in reader if any(cell.strip() for cell in row)]
    keys = [key for _header, key in layout["columns"]]
    if layout["header"]:
        if not rows:
            raise DocumentValidationError("The file is empty: no header row.")
        header = [cell.strip() for cell in rows.pop(0)]
        missing = [h for h, _key in layout["columns"] if h not in header]
        if missing:
            raise DocumentValidationError(
                "The file's header lacks the column(s) " + ", ".join(missing) + " of the layout: "
                "correct the layout (Logistics > Configuration > File Layouts) or ask the partner.",
                errors=[f"header: {', '.join(header)}"],
            )
        positions = [header.index(h) for h, _key in layout["columns"]]
    else:
        positions = list(range(len(keys)))
    parsed = []
    for number, row in enumerate(rows, 2 if layout["header"] else 1):
        values = {}
        for key, position in zip(keys, positions, strict=True):
            cell = row[position].strip() if position < len(row) else ""
            if cell == "":
                continue
            values[key] = _number(cell, key, number) if key in NUMBERS else cell
        values["_row"] = number
        parsed.append(values)
    return parsed


def _require(row, *keys):
    missing = [key for key in keys if key not in row]
    if missing:
        raise DocumentValidationError(f"Row {row['_row']} has no {', '.join(missing)}.")


def parse(text, layout, schema, file_time):
    """The canonical documents of one inbound file."""
    rows = read_rows(text, layout)
    if not rows:
        raise DocumentValidationError("The file has no data rows.")
    builder = {
        "shipment": _shipments,
        "inventory_snapshot": _inventory,
        "receipt": _receipts,
        "return": _returns,
    }.get(schema)
    if builder is None:
        raise DocumentValidationError(f"Files cannot carry {schema} documents.")
    return builder(rows, file_time)


def _grouped(rows, *keys):
    groups = {}
    for row in rows:
        _require(row, *keys)
        groups.setdefault(tuple(row[key] for key in keys), []).append(row)
    return groups


def _shipments(rows, file_time):
    documents = []
    for (order, reference), group in _grouped(rows, "order_reference", "reference").items():
        lines, numbers = {}, []
        for row in group:
            _require(row, "sku", "quantity_shipped")
            if row.get("tracking_number") and row["tracking_number"] not in numbers:
                numbers.append(row["tracking_number"])
            key = (row.get("line_ref"), row["sku"], row.get("lot"), row.get("uom"))
            line = lines.setdefault(
                key,
                {
                    "line_ref": key[0],
                    "sku": key[1],
                    "lot": key[2],
                    "uom": key[3],
                    "quantity_shipped": 0,
                },
            )
            line["quantity_shipped"] += row["quantity_shipped"]
            if row.get("serial"):
                line.setdefault("serials", []).append(row["serial"])
        first = group[0]
        documents.append(
            {
                "schema": "shipment/1",
                "reference": str(reference),
                "order_reference": str(order),
                "status": first.get("status") or "complete",
                "shipped_at": first.get("shipped_at") or file_time,
                "carrier": {"name": first.get("carrier"), "service": first.get("service")},
                "tracking_numbers": numbers,
                "lines": list(lines.values()),
            }
        )
    return documents


def _inventory(rows, file_time):
    documents = []
    for (warehouse,), group in _grouped(rows, "warehouse_code").items():
        items = []
        for row in group:
            _require(row, "sku", "on_hand")
            item = {"sku": row["sku"], "lot": row.get("lot"), "on_hand": row["on_hand"]}
            if "available" in row:
                item["available"] = row["available"]
            if row.get("uom"):
                item["uom"] = row["uom"]
            items.append(item)
        documents.append(
            {
                "schema": "inventory_snapshot/1",
                "warehouse_code": str(warehouse),
                "taken_at": group[0].get("taken_at") or file_time,
                "complete": True,
                "items": items,
            }
        )
    return documents


def _receipts(rows, file_time):
    documents = []
    for (reference,), group in _grouped(rows, "reference").items():
        lines = []
        for row in group:
            _require(row, "sku", "quantity_received")
            lines.append(
                {
                    key: row.get(key)
                    for key in (
                        "line_ref",
                        "sku",
                        "uom",
                        "lot",
                        "quantity_received",
                        "quantity_damaged",
                    )
                    if row.get(key) is not None
                }
            )
        first = group[0]
        documents.append(
            {
                "schema": "receipt/1",
                "reference": str(reference),
                "stage": "received",
                "receipt_reference": first.get("receipt_reference"),
                "received_at": first.get("received_at") or file_time,
                "lines": lines,
            }
        )
    return documents


def _returns(rows, file_time):
    documents = []
    for (reference,), group in _grouped(rows, "reference").items():
        lines = []
        for row in group:
            _require(row, "sku", "quantity")
            line = {
                key: row.get(key)
                for key in ("line_ref", "sku", "uom", "lot", "quantity", "disposition")
                if row.get(key) is not None
            }
            line["quantity_received"] = row["quantity"]
            lines.append(line)
        first = group[0]
        documents.append(
            {
                "schema": "return/1",
                "reference": str(reference),
                "original_order_reference": first.get("original_order_reference"),
                "status": first.get("status") or "completed",
                "updated_at": first.get("updated_at") or file_time,
                "lines": lines,
            }
        )
    return documents
