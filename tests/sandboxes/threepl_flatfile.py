"""A legacy flat-file 3PL working the folders of a real OpenSSH SFTP server on loopback
(tests/sandboxes/sftp_server.py): it takes the order, receipt-notice and return-authorization
files Odoo uploads and writes shipment, inventory, receipt and return files back, in the common
CSV layout (the one the 3PL addon's flat-file partners start with: ord_/asn_/ra_ files in,
shp_/inv_/rcv_/rma_ files out, canonical column names).

It works on the server's directory as the 3PL's own system would; Odoo only ever sees it
through SFTP. Folders (relative to the SFTP root): ``inbound`` (orders from Odoo), ``outbound``
(files for Odoo), ``inbound/processed`` (orders taken).
"""

import csv
import io
import logging
import os
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

SHIPMENT_COLUMNS = ["order_reference", "reference", "shipped_at", "status", "carrier",
                    "service", "tracking_number", "line_ref", "sku", "quantity_shipped", "uom",
                    "lot", "serial"]  # fmt: skip
_logger = logging.getLogger(__name__)
INVENTORY_COLUMNS = ["warehouse_code", "taken_at", "sku", "lot", "uom", "on_hand", "available"]
RECEIPT_COLUMNS = ["reference", "receipt_reference", "received_at", "line_ref", "sku", "uom",
                   "lot", "quantity_received", "quantity_damaged"]  # fmt: skip
RETURN_COLUMNS = ["reference", "original_order_reference", "status", "updated_at", "line_ref",
                  "sku", "uom", "lot", "quantity", "disposition"]  # fmt: skip


def _now():
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _whole(number):
    return int(number) if float(number).is_integer() else number


def _csv(columns, rows):
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\r\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue()


class FlatFilePartner:
    def __init__(self, root, inbound="inbound", outbound="outbound"):
        self.root = Path(root)
        self.inbound = self.root / inbound
        self.outbound = self.root / outbound
        self.processed = self.inbound / "processed"
        for folder in (self.inbound, self.outbound, self.processed):
            folder.mkdir(parents=True, exist_ok=True)
        self.orders = {}
        self.duplicates = []  # (file name, reference) refused as already known
        self._sequence = 0

    def take_orders(self, prefix="ord_"):
        """Read every complete file (never a temporary upload) of orders (``ord_``), receipt
        notices (``asn_``) or return authorizations (``ra_``) and file it away. Like a WMS, it
        refuses a reference it already has (a file sent again): noted in ``duplicates``."""
        taken = []
        for path in sorted(self.inbound.glob(f"{prefix}*.csv")):
            with path.open(newline="") as handle:
                rows = list(csv.DictReader(handle))
            known = set(self.orders)
            for row in rows:
                if row["reference"] in known:
                    if (path.name, row["reference"]) not in self.duplicates:
                        self.duplicates.append((path.name, row["reference"]))
                    continue
                order = self.orders.setdefault(row["reference"], {"lines": [], "file": path.name})
                order["lines"].append(row)
            path.rename(self.processed / path.name)
            taken.append(path.name)
        return taken

    def work_once(self):
        """What the warehouse does on each round of the demo: every new order is shipped in
        full, every receipt notice received in full, every return authorization restocked."""
        done = []
        for prefix, act in (
            ("ord_", self.ship),
            ("asn_", self.receive),
            ("ra_", self._restock_return),
        ):
            for name in self.take_orders(prefix):
                for reference, order in list(self.orders.items()):
                    if order["file"] == name and not order.get("answered"):
                        order["answered"] = act(reference)
                        done.append(order["answered"])
        return done

    def _restock_return(self, reference):
        units = {}
        for line in self.orders[reference]["lines"]:
            units[line["sku"]] = units.get(line["sku"], 0) + float(line["quantity"])
        return self.complete_return(
            reference, {sku: [("restock", _whole(n))] for sku, n in units.items()}
        )

    def run_forever(self, stop=None, interval=5):
        """Demo: work the folders every ``interval`` seconds until ``stop`` is set."""
        stop = stop or threading.Event()
        while not stop.wait(interval):
            try:
                for name in self.work_once():
                    _logger.info("flat-file 3PL wrote %s", name)
            except (OSError, KeyError, ValueError, csv.Error) as error:
                _logger.warning("flat-file 3PL sandbox: %s", error)

    def receive(self, reference, counts=None):
        """A receipt file for an announced receipt: ``counts`` {sku: (good, damaged, lot)},
        default everything announced in good condition."""
        self._sequence += 1
        rows = []
        for line in self.orders[reference]["lines"]:
            good, damaged, lot = (counts or {}).get(
                line["sku"], (line["quantity_expected"], 0, line.get("lot") or "")
            )
            rows.append(
                {
                    "reference": reference,
                    "receipt_reference": f"RCV{self._sequence:05d}",
                    "received_at": _now(),
                    "line_ref": line["line_ref"],
                    "sku": line["sku"],
                    "lot": lot,
                    "quantity_received": good,
                    "quantity_damaged": damaged,
                }
            )
        return self._write("rcv", _csv(RECEIPT_COLUMNS, rows))

    def complete_return(self, reference, dispositions):
        """A processed-return file: ``dispositions`` {sku: [(disposition, units), ...]}."""
        line_refs = {line["sku"]: line["line_ref"] for line in self.orders[reference]["lines"]}
        original = self.orders[reference]["lines"][0].get("original_order_reference")
        rows = [
            {
                "reference": reference,
                "original_order_reference": original,
                "status": "completed",
                "updated_at": _now(),
                "line_ref": line_refs.get(sku, ""),
                "sku": sku,
                "quantity": units,
                "disposition": disposition,
            }
            for sku, entries in dispositions.items()
            for disposition, units in entries
        ]
        return self._write("rma", _csv(RETURN_COLUMNS, rows))

    def _write(self, prefix, text, slowly=False):
        self._sequence += 1
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
        path = self.outbound / f"{prefix}_{stamp}_{self._sequence:04d}.csv"
        if not slowly:
            temporary = self.outbound / f".{path.name}.part"
            temporary.write_text(text)
            os.replace(temporary, path)
            return path.name
        with path.open("w") as handle:  # a partner that writes in place, bit by bit
            for line in text.splitlines(keepends=True):
                handle.write(line)
                handle.flush()
                time.sleep(slowly)
        return path.name

    def ship(
        self,
        reference,
        quantities=None,
        *,
        lots=None,
        serials=None,
        tracking_number=None,
        status=None,
        slowly=False,
    ):
        """A shipment confirmation for a taken order (``quantities`` {sku: units}, default
        all; ``lots`` {sku: lot} or {sku: [(lot, units), ...]}; ``serials`` {sku: [serial,
        ...]}, one row of one unit per serial). ``status`` defaults to partial when
        ``quantities`` are given (more to come), else complete; "complete" with fewer units
        closes the order short."""
        rows = self._shipment_rows(reference, quantities, lots, serials, tracking_number)
        for row in rows:
            row["status"] = status or row["status"]
        return self._write("shp", _csv(SHIPMENT_COLUMNS, rows), slowly=slowly)

    def ship_orders(self, references):
        """One shipment file confirming several taken orders in full (a daily batch)."""
        rows = [row for ref in references for row in self._shipment_rows(ref, None, None, None)]
        return self._write("shp", _csv(SHIPMENT_COLUMNS, rows))

    def _shipment_rows(self, reference, quantities, lots, serials, tracking_number=None):
        order = self.orders[reference]
        self._sequence += 1
        shipment = f"SHP{self._sequence:05d}"
        common = {
            "order_reference": reference,
            "reference": shipment,
            "shipped_at": _now(),
            "status": "complete" if quantities is None else "partial",
            "carrier": "UPS",
            "tracking_number": tracking_number or f"1ZFLAT{self._sequence:05d}",
        }
        rows = []
        for line in order["lines"]:
            sku = line["sku"]
            units = line["quantity"] if quantities is None else quantities.get(sku, 0)
            if not float(units):
                continue
            lot = (lots or {}).get(sku) or ""
            if sku in (serials or {}):
                parts = [(lot, 1, serial) for serial in serials[sku]]
            elif isinstance(lot, list):
                parts = [(name, qty, "") for name, qty in lot]
            else:
                parts = [(lot, units, "")]
            rows.extend(
                {
                    **common,
                    "line_ref": line["line_ref"],
                    "sku": sku,
                    "quantity_shipped": qty,
                    "lot": name,
                    "serial": serial,
                }
                for name, qty, serial in parts
            )
        return rows

    def inventory(self, warehouse_code, stock):
        """An inventory snapshot file: ``stock`` {sku: on hand} or {(sku, lot): on hand}."""
        rows = []
        for key, on_hand in stock.items():
            sku, lot = key if isinstance(key, tuple) else (key, "")
            rows.append(
                {
                    "warehouse_code": warehouse_code,
                    "taken_at": _now(),
                    "sku": sku,
                    "lot": lot,
                    "on_hand": on_hand,
                }
            )
        return self._write("inv", _csv(INVENTORY_COLUMNS, rows))
