"""Drive a running 3PL sandbox by hand: ``python -m tests.sandboxes.threepl_sim [--url URL]
<command> ...`` from the repository root (``.venv/bin/python``).

It talks to the sandbox's simulation API (``/_sim``, no authentication, loopback only): the
ShipBob-like sandbox of the demo on http://127.0.0.1:8702 by default, or the Extensiv-like one
(``--url http://127.0.0.1:8705``), whose simulation API has the same shape for what it can do
(it ships, receives and restocks, but has no warehouse steps and no webhooks: Odoo polls it).

    ack|pick|pack <order>                warehouse progress (a signed webhook to Odoo)
    hold|exception <order> --reason R    on hold / in exception, with the reason
    ship <order> [--partial] [--qty SKU=N] [--lot LOT] [--serial SKU=S1,S2] [--packages N]
                 [--tracking NUMBER]     ship what is left (--partial: half of each line)
    track <order> [--status InTransit]   a carrier scan;  deliver <order>;  cancel <order>
    receive <asn> [--damaged SKU=N] [--received SKU=N] [--lot SKU=LOT]
                                         count a receipt notice (default: all, in good order)
    return <rma> [--disposition restock|quarantine|dispose|damaged] [--split SKU=DISP:N]
                                         process a return (default: everything restocked)
    inventory <sku> <qty> [--lot L] [--delta] [--reason R] [--fc N]
                                         set the stock (--delta: an adjustment event)
    fault 429|5xx|503|latency=SECONDS|timeout|malformed|drop [--count N] [--path /order]
    fault duplicate|out-of-order|webhook-drop [--count N]   on the webhooks sent to Odoo
    redeliver | autopilot on|off [--delay S] | state | reset

Prints the sandbox's answer as JSON; exits 1 when the sandbox refuses (with its reason) and 2
when no sandbox answers at the URL.
"""

import argparse
import json
import sys
import urllib.error
import urllib.request
from urllib.parse import quote

DEFAULT_URL = "http://127.0.0.1:8702"
DISPOSITIONS = {
    "restock": "Restock",
    "quarantine": "Quarantine",
    "dispose": "Dispose",
    "damaged": "Damaged",
    "return_to_vendor": "ReturnToSender",
}
WEBHOOK_FAULTS = {"duplicate": "duplicate", "out-of-order": "reorder", "webhook-drop": "drop"}


class SimError(Exception):
    """What to tell the person at the terminal, and the exit code."""

    def __init__(self, text, code=1):
        super().__init__(text)
        self.code = code


class Sandbox:
    def __init__(self, url):
        self.url = url.rstrip("/")

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}/_sim/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                text = response.read().decode() or "{}"
        except urllib.error.HTTPError as error:
            text = error.read().decode(errors="replace")
            try:
                reason = json.loads(text).get("error") or text
            except (ValueError, AttributeError):
                reason = text
            raise SimError(f"The sandbox refused {method} /_sim/{path}: {reason}") from None
        except (urllib.error.URLError, OSError) as error:
            raise SimError(
                f"No 3PL sandbox answers at {self.url} ({getattr(error, 'reason', error)}): "
                "start it (scripts/run) or give --url.",
                code=2,
            ) from None
        return json.loads(text)

    def state(self):
        return self.call("GET", "state")

    def is_extensiv(self):
        return "receivers" in self.state()


def _pairs(values, what):
    """["SKU=N", ...] -> {SKU: "N"}."""
    pairs = {}
    for value in values or []:
        sku, sep, rest = value.partition("=")
        if not sep or not sku or not rest:
            raise SimError(f"{what} must look like SKU=VALUE, not {value!r}")
        pairs[sku] = rest
    return pairs


def _number(text, what):
    try:
        number = float(text)
    except ValueError:
        raise SimError(f"{what}: {text!r} is not a number") from None
    return int(number) if number.is_integer() else number


def _order_lines(sandbox, reference):
    """{sku: units left to ship} of an order, from the sandbox's state."""
    state = sandbox.state()
    for order in state.get("orders") or []:
        if order.get("reference_id") == reference or order.get("referenceNum") == reference:
            if "products" in order:  # ShipBob-like
                shipped = {}
                for shipment in order.get("shipments") or []:
                    for product in shipment.get("products") or []:
                        sku = product["reference_id"]
                        shipped[sku] = shipped.get(sku, 0) + product["quantity"]
                return {
                    p["reference_id"]: p["quantity"] - shipped.get(p["reference_id"], 0)
                    for p in order["products"]
                }
            return {i["itemIdentifier"]["sku"]: i["qty"] for i in order["orderItems"]}
    raise SimError(f"The sandbox has no order {reference!r}.")


def _expected_items(sandbox, reference, kind):
    """{sku: units} announced in a receipt notice (kind receiving) or a return."""
    state = sandbox.state()
    if "receivers" in state:
        for receiver in state["receivers"]:
            if receiver["referenceNum"] == reference:
                items = {}
                for item in receiver["receiveItems"]:
                    sku = item["itemIdentifier"]["sku"]
                    items[sku] = items.get(sku, 0) + item["qty"]
                return items
    elif kind == "receiving":
        for wro in state.get("receiving") or []:
            if wro.get("purchase_order_number") == reference or str(wro.get("id")) == reference:
                return {
                    item["sku"]: item["quantity"]
                    for box in wro["boxes"]
                    for item in box["box_items"]
                }
    else:
        for item in state.get("returns") or []:
            if item["reference_id"] == reference or str(item["id"]) == reference:
                return {line["sku"]: line["quantity"] for line in item["inventory"]}
    raise SimError(f"The sandbox has no {kind} {reference!r}.")


def ship(sandbox, args):
    body = {}
    lines = _order_lines(sandbox, args.order)
    quantities = {sku: _number(n, "--qty") for sku, n in _pairs(args.qty, "--qty").items()}
    if args.partial and not quantities:
        quantities = {sku: max(left // 2, 1) for sku, left in lines.items() if left > 1}
        if not quantities:
            raise SimError(f"{args.order}: nothing left that can be shipped in part.")
    if quantities:
        body["quantities"] = quantities
    if args.lot:
        shipping = quantities or lines
        body["lots"] = {sku: [[args.lot, units]] for sku, units in shipping.items() if units}
    if args.serial:
        body["serials"] = {sku: s.split(",") for sku, s in _pairs(args.serial, "--serial").items()}
    if args.tracking:
        body["tracking_number"] = args.tracking
    if args.packages:
        body["packages"] = args.packages
    if sandbox.is_extensiv():
        # Warehouse Manager's simulation takes one lot per SKU.
        if "lots" in body:
            body["lots"] = dict.fromkeys(body["lots"], args.lot)
        body.pop("serials", None)
    return sandbox.call("POST", f"orders/{quote(args.order, safe='')}/ship", body)


def receive(sandbox, args):
    expected = _expected_items(sandbox, args.asn, "receiving")
    damaged = {sku: _number(n, "--damaged") for sku, n in _pairs(args.damaged, "--damaged").items()}
    received = {
        sku: _number(n, "--received") for sku, n in _pairs(args.received, "--received").items()
    }
    lots = _pairs(args.lot, "--lot")
    lines = {}
    for sku, units in expected.items():
        line = {
            "received": received.get(sku, max(units - damaged.get(sku, 0), 0)),
            "damaged": damaged.get(sku, 0),
        }
        if sku in lots:
            line["lot"] = lots[sku]
        lines[sku] = line
    return sandbox.call("POST", f"receiving/{quote(args.asn, safe='')}/receive", {"lines": lines})


def process_return(sandbox, args):
    expected = _expected_items(sandbox, args.rma, "return")
    if args.disposition not in DISPOSITIONS:
        raise SimError(f"--disposition must be one of {', '.join(DISPOSITIONS)}")
    dispositions = {}
    for sku, value in _pairs(args.split, "--split").items():
        disposition, _sep, units = value.partition(":")
        if disposition not in DISPOSITIONS or not units:
            raise SimError(f"--split must look like SKU=restock:2, not {sku}={value}")
        dispositions.setdefault(sku, []).append(
            [DISPOSITIONS[disposition], _number(units, "--split")]
        )
    for sku, units in expected.items():
        left = units - sum(entry[1] for entry in dispositions.get(sku, []))
        if left > 0:
            dispositions.setdefault(sku, []).append([DISPOSITIONS[args.disposition], left])
    return sandbox.call(
        "POST", f"returns/{quote(args.rma, safe='')}/complete", {"dispositions": dispositions}
    )


def inventory(sandbox, args):
    body = {"sku": args.sku, "lot": args.lot}
    quantity = _number(args.qty, "qty")
    extensiv = sandbox.is_extensiv()
    if args.delta:
        if extensiv:
            raise SimError("Extensiv has no inventory events: set the stock, Odoo reads it.")
        body.update(delta=quantity, reason=args.reason or "Cycle count")
    else:
        body["on_hand"] = quantity
    if args.fc:
        # The ShipBob-like sandbox names it fc in its adjustment event.
        body["facility" if extensiv else "fc" if args.delta else "fulfillment_center"] = args.fc
    return sandbox.call("POST", "inventory", body)


def fault(sandbox, args):
    kind = args.kind
    if kind in WEBHOOK_FAULTS:
        if sandbox.is_extensiv():
            raise SimError("Extensiv sends no webhooks (Odoo polls it): no webhook faults.")
        return sandbox.call(
            "POST", "webhook-faults", {"kind": WEBHOOK_FAULTS[kind], "count": args.count}
        )
    body = {"count": args.count}
    if kind == "429":
        body["kind"] = "rate_limit"
    elif kind == "5xx" or (len(kind) == 3 and kind.startswith("5") and kind.isdigit()):
        body.update(kind="status", status=503 if kind == "5xx" else int(kind))
    elif kind.startswith("latency="):
        body.update(kind="latency", seconds=_number(kind.split("=", 1)[1], "latency"))
    elif kind in ("timeout", "malformed", "drop"):
        body["kind"] = kind
    else:
        raise SimError(
            f"Unknown fault {kind!r}: 429, 5xx (or 500-599), latency=SECONDS, timeout, "
            "malformed, drop, duplicate, out-of-order, webhook-drop."
        )
    if args.path and not sandbox.is_extensiv():
        body["path_prefix"] = args.path
    return sandbox.call("POST", "faults", body)


def _order_action(action):
    def run(sandbox, args):
        body = {"reason": args.reason} if getattr(args, "reason", None) else {}
        if action == "track":
            body["status"] = args.status
        return sandbox.call("POST", f"orders/{quote(args.order, safe='')}/{action}", body)

    return run


def parser():
    main = argparse.ArgumentParser(
        prog="python -m tests.sandboxes.threepl_sim",
        description="Drive a running 3PL sandbox (its /_sim API).",
    )
    main.add_argument("--url", default=DEFAULT_URL, help=f"the sandbox (default {DEFAULT_URL})")
    commands = main.add_subparsers(dest="command", required=True)
    for name, action in (
        ("ack", "acknowledge"),
        ("pick", "pick"),
        ("pack", "pack"),
        ("deliver", "deliver"),
    ):
        command = commands.add_parser(name, help=f"order: {action}")
        command.add_argument("order")
        command.set_defaults(run=_order_action(action))
    for name in ("hold", "exception", "cancel"):
        command = commands.add_parser(name, help=f"order: {name}, with a reason")
        command.add_argument("order")
        command.add_argument("--reason")
        command.set_defaults(run=_order_action(name))
    command = commands.add_parser("track", help="order: a carrier scan")
    command.add_argument("order")
    command.add_argument("--status", default="InTransit")
    command.set_defaults(run=_order_action("track"))
    command = commands.add_parser("ship", help="order: ship what is left, or part of it")
    command.add_argument("order")
    command.add_argument("--partial", action="store_true", help="half of each line")
    command.add_argument("--qty", action="append", metavar="SKU=N")
    command.add_argument("--lot", help="every shipped unit from this lot")
    command.add_argument("--serial", action="append", metavar="SKU=S1,S2")
    command.add_argument("--packages", type=int)
    command.add_argument("--tracking")
    command.set_defaults(run=ship)
    command = commands.add_parser("receive", help="count a receipt notice")
    command.add_argument("asn")
    command.add_argument("--damaged", action="append", metavar="SKU=N")
    command.add_argument("--received", action="append", metavar="SKU=N")
    command.add_argument("--lot", action="append", metavar="SKU=LOT")
    command.set_defaults(run=receive)
    command = commands.add_parser("return", help="process a customer return")
    command.add_argument("rma")
    command.add_argument("--disposition", default="restock")
    command.add_argument("--split", action="append", metavar="SKU=DISPOSITION:N")
    command.set_defaults(run=process_return)
    command = commands.add_parser("inventory", help="set a SKU's stock, or adjust it")
    command.add_argument("sku")
    command.add_argument("qty")
    command.add_argument("--lot")
    command.add_argument("--delta", action="store_true", help="an adjustment event (webhook)")
    command.add_argument("--reason")
    command.add_argument("--fc", type=int, help="fulfillment center / facility id")
    command.set_defaults(run=inventory)
    command = commands.add_parser("fault", help="make the sandbox misbehave")
    command.add_argument("kind")
    command.add_argument("--count", type=int, default=1)
    command.add_argument("--path", help="only API paths under this prefix, e.g. /order")
    command.set_defaults(run=fault)
    command = commands.add_parser("autopilot", help="ship new orders by themselves, or not")
    command.add_argument("switch", choices=("on", "off"))
    command.add_argument("--delay", type=float, default=5)
    command.set_defaults(
        run=lambda s, a: s.call(
            "POST", "autopilot", {"enabled": a.switch == "on", "delay": a.delay}
        )
    )
    for name, method in (("state", "GET"), ("reset", "POST"), ("redeliver", "POST")):
        command = commands.add_parser(name)
        command.set_defaults(run=lambda s, a, n=name, m=method: s.call(m, n))
    return main


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        answer = args.run(Sandbox(args.url), args)
    except SimError as error:
        print(error, file=sys.stderr)
        return error.code
    print(json.dumps(answer, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
