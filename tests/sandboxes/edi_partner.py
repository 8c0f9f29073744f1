"""An X12 trading partner (a 3PL) working the folders of a real SFTP server on loopback.

The partner reads what Odoo uploads (940 orders, 943 advance notices, 997 acknowledgements)
from ``to_partner``, answers every group with a 997, every order with a 945 shipping advice
and every 943 with a 944 receipt advice, and can send an 846 inventory advice, 214 carrier
status messages and 210 freight invoices, all into ``from_partner``, where Odoo polls. With
``carrier_updates=True`` (the demo) every shipped order is followed by a 214 saying the
parcel left and was delivered. It sees the server's files
directly, as a partner sees its own server's disk. Faults are injected on command:

    partner = EdiPartner(server.root_dir / "edi", our_id="PARTNER3PL", their_id="OURCOMPANY")
    partner.inject("bad_count")           # next file: SE01 one too high
    partner.inject("duplicate_control")   # next file reuses the previous ISA13
    partner.inject("no_997")              # next received group gets no 997
    partner.inject("late_997", seconds=5) # 997s are written that much later
    partner.inject("wrong_separator")     # next file: ISA says '*', segments use '|'
    partner.inject("split_write")         # next file is written in two parts, 1 s apart
    partner.send_status("1Z0001", "WH/OUT/00001", [("D1", "20250301", "1400")])  # a 214
    partner.send_freight_invoice("INV-1", "WH/OUT/00001", 12.5)  # a 210
    partner.work_once()                   # one pass; run_forever() for the demo

The files use the engine of logistics_connector_edi, so what the partner writes is valid X12
unless a fault says otherwise.
"""

import datetime
import logging
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "logistics_connector_edi") not in sys.path:
    sys.path.insert(0, str(ROOT / "logistics_connector_edi"))

from x12 import (  # noqa: E402 - the engine as a plain package
    FunctionalGroup,
    Interchange,
    PartnerRules,
    Serializer,
    TransactionSet,
    X12Reader,
    build_acknowledgements,
)

# the partner reads both editions; its 997s answer each group in the group's version
READS = PartnerRules(versions=("004010", "005010"))

_logger = logging.getLogger(__name__)


class EdiPartner:
    """A 3PL speaking X12 through folders ``root/to_partner`` and ``root/from_partner``."""

    def __init__(
        self,
        root,
        our_id="PARTNER3PL",
        their_id="OURCOMPANY",
        usage="T",
        carrier_updates=False,
        version="004010",
    ):
        self.root = Path(root)
        self.inbox = self.root / "to_partner"
        self.outbox = self.root / "from_partner"
        for folder in (self.inbox, self.outbox, self.root / "done"):
            folder.mkdir(parents=True, exist_ok=True)
        self.our_id = our_id
        self.their_id = their_id
        self.usage = usage
        self.carrier_updates = carrier_updates
        self.version = version  # GS08 of what the partner writes (005010: a 00501 envelope)
        self.control = 100  # ISA13/GS06/ST02 of what the partner writes
        self.faults = []
        self.received = []  # (file name, report status)
        self.orders = []  # order numbers shipped
        self.received_asns = []  # receipt references counted
        self.late = []  # (due time, name, text)
        self._stop = threading.Event()
        self._lock = threading.Lock()

    # ---- control ---------------------------------------------------------------------------
    def inject(self, kind, **options):
        with self._lock:
            self.faults.append({"kind": kind, **options})

    def _take_fault(self, *kinds):
        with self._lock:
            for fault in self.faults:
                if fault["kind"] in kinds:
                    self.faults.remove(fault)
                    return fault
        return None

    def reset(self):
        with self._lock:
            self.faults.clear()
            self.received.clear()
            self.orders.clear()
            self.received_asns.clear()
            self.late.clear()

    # ---- writing -----------------------------------------------------------------------------
    def _next(self):
        self.control += 1
        return self.control

    def write_interchange(self, functional_id, set_id, bodies, name_prefix=None):
        """Write one interchange of ``bodies`` (lists of (tag, elements)); returns its name."""
        duplicate = self._take_fault("duplicate_control")
        isa13 = self.control if duplicate else self._next()
        gs06 = isa13
        interchange = Interchange(
            "ZZ",
            self.our_id,
            "ZZ",
            self.their_id,
            isa13,
            usage=self.usage,
            groups=[
                FunctionalGroup(
                    functional_id,
                    self.our_id,
                    self.their_id,
                    gs06,
                    version=self.version,
                    sets=[
                        TransactionSet(set_id, index, body)
                        for index, body in enumerate(bodies, start=1)
                    ],
                )
            ],
        )
        text = Serializer().serialize(interchange)
        if self._take_fault("bad_count"):
            text = text.replace("~\nSE*", "~\nSE*9", 1)
        if self._take_fault("wrong_separator"):
            head, rest = text[:106], text[106:]
            text = head + rest.replace("*", "|")
        name = f"{name_prefix or set_id}_{isa13:09d}_{time.time_ns() % 10**6}.x12"
        self._write(name, text)
        return name

    def _write(self, name, text):
        data = text.encode("ascii")
        path = self.outbox / name
        if self._take_fault("split_write"):
            half = len(data) // 2
            path.write_bytes(data[:half])
            threading.Timer(1.0, lambda: path.open("ab").write(data[half:])).start()
            return
        partial = self.outbox / f".{name}.part"
        partial.write_bytes(data)
        partial.rename(path)

    def send_inventory(self, items, warehouse="SBX-WH1", reference="INV1"):
        """An 846 listing ``items``: [(sku, on_hand, available), ...]."""
        today = datetime.date.today().strftime("%Y%m%d")
        body = [
            ("BIA", ["00", "MM", reference, today, "1200"]),
            ("N1", ["WH", None, "91", warehouse]),
        ]
        for sku, on_hand, available in items:
            body += [("LIN", [None, "SK", sku]), ("QTY", ["17", str(on_hand)])]
            if available is not None:
                body.append(("QTY", ["33", str(available)]))
        body.append(("CTT", [str(len(items))]))
        return self.write_interchange("IB", "846", [body])

    def send_status(self, tracking, shipment, events, carrier="UPSN"):
        """A 214 for one parcel: ``events`` [(AT7-01 status, CCYYMMDD, HHMM[, city, state])],
        e.g. ("AF", ...) departed pick-up, ("D1", ...) delivered, ("SD", ...) delayed."""
        body = [("B10", [tracking, shipment, carrier])]
        for number, (status, date, hour, *place) in enumerate(events, start=1):
            body += [
                ("LX", [str(number)]),
                # AT7-02 "NS" normal status (01 and 02 go in pairs); times in UTC (UT)
                ("AT7", [status, "NS", None, None, date, hour, "UT"]),
            ]
            if place:
                body.append(("MS1", [place[0], place[1] if len(place) > 1 else None, "US"]))
        return self.write_interchange("QM", "214", [body])

    def send_freight_invoice(
        self, invoice, shipment, amount, carrier="UPSN", currency="USD", weight=None
    ):
        """A 210 billing ``amount`` for one shipment (one line haul charge)."""
        today = datetime.date.today().strftime("%Y%m%d")
        cents = str(round(amount * 100))  # N2: two implied decimals
        body = [
            ("B3", [None, invoice, shipment, "PP", None, today, cents, None, None, None, carrier]),
            ("C3", [currency]),
            ("LX", ["1"]),
            ("L5", ["1", "Parcel freight"]),
            ("L1", ["1", _num(amount), "FR", cents]),
        ]
        total = [_num(weight), "G"] if weight else [None, None]
        total += [None, None, cents]
        if weight:
            total += [None] * 6 + ["L"]
        body.append(("L3", total))
        return self.write_interchange("IM", "210", [body])

    def shipment_for(self, order, lines, shipped=None):
        """945 body for an order: ``lines`` [(sku, ordered, line_ref)], all shipped unless
        ``shipped`` {sku: quantity} says otherwise."""
        today = datetime.date.today().strftime("%Y%m%d")
        body = [
            ("W06", ["F", order, today, f"SHP-{order}"]),
            ("N1", ["ST", "Customer"]),
            ("N9", ["BM", f"BOL-{order}"]),
            ("G62", ["11", today, "8", "1200"]),
            ("W27", ["M", "UPSN"]),
        ]
        total = 0
        for number, (sku, ordered, line_ref) in enumerate(lines, start=1):
            quantity = (shipped or {}).get(sku, ordered)
            total += quantity
            status = "CC" if quantity >= ordered else "BP"
            body += [
                ("LX", [str(number)]),
                ("MAN", ["CP", f"1Z{order[-6:]}{number:04d}"]),
                (
                    "W12",
                    [
                        status,
                        _num(ordered),
                        _num(quantity),
                        _num(ordered - quantity),
                        "EA",
                        None,
                        "SK",
                        sku,
                    ],
                ),
                ("N9", ["LI", line_ref]),
            ]
        body.append(("W03", [_num(total)]))
        return body

    # ---- reading -------------------------------------------------------------------------------
    def work_once(self, ship=True):
        """Read every file Odoo uploaded: answer with 997s, ship every order (945)."""
        self._flush_late()
        for path in sorted(self.inbox.glob("*.x12")):
            reader = X12Reader(path, rules=READS)
            parsed_sets = list(reader)
            report = reader.report
            self.received.append((path.name, report.status))
            if self._take_fault("no_997") is None and any(
                g.functional_id != "FA" for i in report.interchanges for g in i.groups
            ):
                self._acknowledge(report)
            if ship and report.status == "accepted":
                for parsed in parsed_sets:
                    if parsed.result.set_id == "940":
                        self._ship(parsed.segments)
                    elif parsed.result.set_id == "943":
                        self._receive(parsed.segments)
            path.rename(self.root / "done" / path.name)

    def _acknowledge(self, report):
        replies = build_acknowledgements(
            report,
            interchange_control_number=self._next(),
            group_control_number=self.control,
            set_control_number=1,
        )
        late = self._take_fault("late_997")
        for reply in replies:
            text = Serializer().serialize(reply)
            name = f"997_{reply.control_number:09d}.x12"
            if late:
                self.late.append((time.monotonic() + late.get("seconds", 5), name, text))
            else:
                self._write(name, text)

    def _flush_late(self):
        now = time.monotonic()
        for due, name, text in list(self.late):
            if due <= now:
                self.late.remove((due, name, text))
                self._write(name, text)

    def _ship(self, segments):
        order = None
        lines = []
        sku = quantity = None
        for segment in segments:
            if segment.tag == "W05":
                order = segment.elements[1]
            elif segment.tag == "W01":
                quantity = float(segment.elements[0])
                sku = segment.elements[4] if len(segment.elements) > 4 else None
            elif segment.tag == "N9" and segment.elements[:1] == ["LI"] and sku:
                lines.append((sku, quantity, segment.elements[1]))
                sku = None
        if order and lines:
            self.orders.append(order)
            self.write_interchange("SW", "945", [self.shipment_for(order, lines)])
            if self.carrier_updates:
                # the carrier's news of the first parcel of the 945 (MAN*CP)
                now = datetime.datetime.now(datetime.UTC)
                self.send_status(
                    f"1Z{order[-6:]}{1:04d}",
                    order,
                    [
                        ("AF", now.strftime("%Y%m%d"), now.strftime("%H%M"), "Memphis", "TN"),
                        ("D1", now.strftime("%Y%m%d"), now.strftime("%H%M"), "Chicago", "IL"),
                    ],
                )

    def _receive(self, segments):
        """A 944 counting everything a 943 announced (``damaged`` {sku: units} aside)."""
        reference = None
        lines = []
        for segment in segments:
            elements = segment.elements
            if segment.tag == "W06":
                reference = elements[1]
            elif segment.tag == "W04":
                lot = elements[15] if len(elements) > 15 else None
                lines.append([float(elements[0]), elements[1], elements[4], lot, None])
            elif segment.tag == "N9" and elements[:1] == ["LI"] and lines:
                lines[-1][4] = elements[1]
        if not (reference and lines):
            return
        today = datetime.date.today().strftime("%Y%m%d")
        body = [
            ("W17", ["F", today, f"RCV{self.control + 1}", reference]),
            ("N1", ["WH", "Partner warehouse"]),
        ]
        total = 0
        for quantity, uom, sku, lot, line_ref in lines:
            total += quantity
            body.append(("W07", [_num(quantity), uom, None, "SK", sku, None, None, lot]))
            if line_ref:
                body.append(("N9", ["LI", line_ref]))
        body.append(("W14", [_num(total)]))
        self.received_asns.append(reference)
        self.write_interchange("RE", "944", [body])

    def run_forever(self, interval=2.0):
        while not self._stop.is_set():
            try:
                self.work_once()
            except Exception:  # the demo partner keeps running; the log says what broke
                _logger.exception("EDI partner pass failed")
            self._stop.wait(interval)

    def stop(self):
        self._stop.set()


def _num(value):
    value = float(value)
    return str(int(value)) if value.is_integer() else str(value)
