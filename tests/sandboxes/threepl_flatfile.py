"""A legacy flat-file 3PL working the folders of a real OpenSSH SFTP server on loopback
(tests/sandboxes/sftp_server.py): it takes the order files Odoo uploads and writes shipment,
inventory, receipt and return files back, in the common CSV layout (the one the 3PL addon's
flat-file partners start with: ord_/shp_/inv_/rcv_/rma_ files with canonical column names).

It works on the server's directory as the 3PL's own system would; Odoo only ever sees it
through SFTP. Folders (relative to the SFTP root): ``inbound`` (orders from Odoo), ``outbound``
(files for Odoo), ``inbound/processed`` (orders taken).
"""

import csv
import io
import os
import time
from datetime import datetime, timezone
from pathlib import Path

SHIPMENT_COLUMNS = ["order_reference", "reference", "shipped_at", "status", "carrier",
                    "service", "tracking_number", "line_ref", "sku", "quantity_shipped", "uom",
                    "lot", "serial"]  # fmt: skip
INVENTORY_COLUMNS = ["warehouse_code", "taken_at", "sku", "lot", "uom", "on_hand", "available"]


def _now():
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


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
        self._sequence = 0

    def take_orders(self):
        """Read every complete order file (never a temporary upload) and file it away."""
        taken = []
        for path in sorted(self.inbound.glob("ord_*.csv")):
            with path.open(newline="") as handle:
                rows = list(csv.DictReader(handle))
            for row in rows:
                order = self.orders.setdefault(row["reference"], {"lines": [], "file": path.name})
                order["lines"].append(row)
            path.rename(self.processed / path.name)
            taken.append(path.name)
        return taken

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

    def ship(self, reference, quantities=None, *, lots=None, tracking_number=None, slowly=False):
        """A shipment confirmation for a taken order (``quantities`` {sku: units}, default
        all; ``lots`` {sku: lot})."""
        order = self.orders[reference]
        self._sequence += 1
        shipment = f"SHP{self._sequence:05d}"
        rows = []
        for line in order["lines"]:
            units = line["quantity"] if quantities is None else quantities.get(line["sku"], 0)
            if not float(units):
                continue
            rows.append(
                {
                    "order_reference": reference,
                    "reference": shipment,
                    "shipped_at": _now(),
                    "status": "complete" if quantities is None else "partial",
                    "carrier": "UPS",
                    "tracking_number": tracking_number or f"1ZFLAT{self._sequence:05d}",
                    "line_ref": line["line_ref"],
                    "sku": line["sku"],
                    "quantity_shipped": units,
                    "lot": (lots or {}).get(line["sku"], ""),
                }
            )
        return self._write("shp", _csv(SHIPMENT_COLUMNS, rows), slowly=slowly)

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
