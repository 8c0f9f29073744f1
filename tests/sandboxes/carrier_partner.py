"""An EasyPost-like carrier served on loopback for tests and the demo.

It follows the public EasyPost v2 contract for the calls the carrier addon makes (and that
EasyPost's own clients make for them), keeps its state per run, and misbehaves on command:

    Auth: HTTP Basic, the API key as user name and an empty password, or the key as a Bearer
    token (EasyPost's official clients). A test key sees
    "test" objects, a production key "production" ones (as EasyPost's two key kinds do).
    POST /v2/shipments                 {"shipment": {to_address, from_address, parcel,
                                        reference, options, is_return}} -> Shipment + rates
    GET  /v2/shipments                 list (page_size, purchased)
    GET  /v2/shipments/<id|reference>  one Shipment ("reference ... may be used in place of
                                        id"): a retry finds what an earlier attempt bought
    GET  /v2/shipments/<id>/rates      {"rates": [...]}
    POST /v2/shipments/<id>/buy        {"rate": {"id"}} -> postage_label, tracking_code,
                                        tracker; buying twice is refused (422)
    GET  /v2/shipments/<id>/label      ?file_format=PDF|ZPL|PNG: the label in that format
    POST /v2/shipments/<id>/refund     refund_status submitted (rejected once in transit)
    POST /v2/trackers                  {"tracker": {tracking_code, carrier}}
    GET  /v2/trackers/<id>             GET /v2/trackers?tracking_codes[]=...
    POST /v2/webhooks                  {"webhook": {url, webhook_secret}}; GET; DELETE
    GET  /labels/<file>                label files (public URLs, as EasyPost's are)

Webhook events (``Event`` objects, ``tracker.created`` / ``tracker.updated`` /
``refund.successful``) are POSTed to the registered webhooks with EasyPost's signature:
``X-Hmac-Signature: hmac-sha256-hex=<hex HMAC-SHA256 of the raw body, keyed with the NFKD
normalised secret>``.

Simulation (Python, or over HTTP under /_control, loopback only): ``advance(tracking_code,
status, ...)`` moves a parcel on (pre_transit, in_transit, out_for_delivery, delivered,
available_for_pickup, failure, return_to_sender, cancelled) and sends its event;
``deliver(event)`` sends an event again (duplicates) and events made with ``send=False`` can be
delivered in any order. Faults (GenericPartnerSandbox.inject): latency, status (5xx), rate_limit
(429), malformed, drop (timeouts), accept_then_fail (the label is bought, the answer is lost).
"""

import copy
import hashlib
import hmac
import html
import json
import logging
import secrets
import threading
import time
import unicodedata
from datetime import datetime, timedelta, timezone

import requests

from .http_partner import GenericPartnerSandbox, _decode_basic, _error, _Reply

_logger = logging.getLogger(__name__)

DEFAULT_TEST_KEY = "EZTK_sandbox_test_key_0001"
SIGNATURE_HEADER = "X-Hmac-Signature"
SIGNATURE_PREFIX = "hmac-sha256-hex="
TRACKER_STATUSES = (
    "unknown",
    "pre_transit",
    "in_transit",
    "out_for_delivery",
    "delivered",
    "available_for_pickup",
    "return_to_sender",
    "failure",
    "cancelled",
    "error",
)
# A parcel addressed to this ZIP code cannot be verified: the carrier refuses it (422).
UNDELIVERABLE_ZIP = "00000"
LABEL_FORMATS = {"PDF": "pdf", "ZPL": "zpl", "PNG": "png"}

# Demo: the carrier the demo shipping method uses (scripts/run). Loopback only.
DEMO_PORT = 8703
DEMO_API_KEY = "EZTK_demo_carrier_key"
DEMO_WEBHOOK_SECRET = "demo-carrier-webhook-secret"
DEMO_WEBHOOK_TOKEN = "demo-carrier-webhook"


def sign(secret, body):
    """EasyPost's webhook signature of a raw body."""
    key = unicodedata.normalize("NFKD", secret).encode()
    return SIGNATURE_PREFIX + hmac.new(key, body, hashlib.sha256).hexdigest()


def _now():
    return datetime.now(timezone.utc)


def _stamp(moment=None):
    return (moment or _now()).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ep_error(status, code, message, errors=None):
    """An error the way EasyPost answers one."""
    return _Reply(status, {"error": {"code": code, "message": message, "errors": errors or []}})


def _object_id(prefix):
    return f"{prefix}_{secrets.token_hex(16)}"


def _label_file(kind, shipment):
    """A small but real label file of the kind asked for."""
    tracking = shipment["tracking_code"]
    to = shipment["to_address"]
    if kind == "zpl":
        return (
            "^XA^CF0,40^FO50,50^FDSANDBOX CARRIER^FS"
            f"^FO50,120^FD{to.get('name') or ''}^FS^FO50,170^FD{to.get('city') or ''}^FS"
            f"^BY3^FO50,250^BCN,120,Y,N,N^FD{tracking}^FS^XZ"
        ).encode()
    if kind == "png":
        # The 1x1 PNG every label printer test page starts from: the format matters here.
        return bytes.fromhex(
            "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4"
            "890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
        )
    text = f"SANDBOX CARRIER LABEL {tracking} TO {to.get('name') or ''}"
    stream = f"BT /F1 18 Tf 40 700 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 288 432] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return out


def _rates_for(shipment):
    """Deterministic rates: by weight (ounces) and destination, like a carrier's tariff."""
    ounces = float(shipment["parcel"]["weight"])
    pounds = max(ounces / 16.0, 0.1)
    domestic = (shipment["to_address"].get("country") or "US").upper() == "US"
    if domestic:
        table = [
            ("USPS", "GroundAdvantage", 4.75 + 0.55 * pounds, 5),
            ("USPS", "Priority", 7.90 + 0.95 * pounds, 2),
            ("USPS", "Express", 26.35 + 1.80 * pounds, 1),
            ("UPS", "Ground", 9.40 + 0.70 * pounds, 4),
            ("UPS", "NextDayAir", 31.20 + 2.10 * pounds, 1),
        ]
    else:
        table = [
            ("USPS", "FirstClassPackageInternationalService", 15.10 + 2.10 * pounds, 10),
            ("USPS", "PriorityMailInternational", 42.50 + 3.40 * pounds, 7),
            ("UPS", "Expedited", 68.00 + 4.10 * pounds, 4),
        ]
    rates = []
    for carrier, service, amount, days in table:
        rates.append(
            {
                "id": _object_id("rate"),
                "object": "Rate",
                "mode": shipment["mode"],
                "service": service,
                "carrier": carrier,
                "carrier_account_id": f"ca_{carrier.lower()}_sandbox",
                "shipment_id": shipment["id"],
                "rate": f"{amount:.2f}",
                "currency": "USD",
                "retail_rate": f"{amount * 1.15:.2f}",
                "list_rate": f"{amount * 1.08:.2f}",
                "delivery_days": days,
                "delivery_date": _stamp(_now() + timedelta(days=days)),
                "delivery_date_guaranteed": days <= 2,
                "est_delivery_days": days,
                "created_at": shipment["created_at"],
                "updated_at": shipment["created_at"],
            }
        )
    return rates


class CarrierSandbox(GenericPartnerSandbox):
    """A stateful EasyPost-like carrier on 127.0.0.1.

    api_keys: {key: "test" | "production"}. webhook_url/webhook_secret: a webhook registered
    from the start (tests), besides those created through POST /v2/webhooks. auto_advance:
    seconds between automatic tracking steps after a label is bought (the demo), 0 to move
    parcels by hand.
    """

    def __init__(
        self,
        port=0,
        api_keys=None,
        webhook_url=None,
        webhook_secret=None,
        auto_advance=0,
        announce_trackers=False,
    ):
        super().__init__(port=port, auth=None)
        # EasyPost also sends tracker.created when a label is bought; off by default, as it
        # races the buyer's own transaction (Odoo records "label created" itself).
        self.announce_trackers = announce_trackers
        self.api_keys = dict(api_keys or {DEFAULT_TEST_KEY: "test"})
        self.default_webhook = (
            {"url": webhook_url, "secret": webhook_secret, "mode": "test"} if webhook_url else None
        )
        self.auto_advance = auto_advance
        self._shipments = {}
        self._trackers = {}
        self._webhooks = {}
        self._events = []
        self._deliveries = []
        self._labels = {}
        self._timers = []
        self._sequence = 1000000000

    # -- state ---------------------------------------------------------------------------------

    def reset(self):
        super().reset()
        with self._lock:
            for timer in self._timers:
                timer.cancel()
            self._timers.clear()
            self._shipments.clear()
            self._trackers.clear()
            self._webhooks.clear()
            self._events.clear()
            self._deliveries.clear()
            self._labels.clear()

    def stop(self):
        with self._lock:
            for timer in self._timers:
                timer.cancel()
            self._timers.clear()
        super().stop()

    def inject(self, kind, count=1, path_prefix="/v2/", **options):
        return super().inject(kind, count=count, path_prefix=path_prefix, **options)

    def shipments(self, purchased=None):
        """Every shipment, oldest first (copies); purchased=True: those with a label."""
        with self._lock:
            items = [copy.deepcopy(s) for s in self._shipments.values()]
        if purchased is not None:
            items = [s for s in items if bool(s["postage_label"]) == purchased]
        return items

    def labels_bought(self, reference=None):
        """Shipments with a label, optionally for one reference: the never-twice check."""
        return [
            s
            for s in self.shipments(purchased=True)
            if reference is None or s["reference"] == reference
        ]

    def tracker(self, tracking_code):
        with self._lock:
            found = self._tracker_by_code(tracking_code)
            return copy.deepcopy(found) if found else None

    @property
    def deliveries(self):
        """Webhook deliveries made: event id, description, status code, time."""
        with self._lock:
            return [dict(entry) for entry in self._deliveries]

    def set_refund_status(self, shipment_id, status):
        """The carrier settles a submitted refund (refunded or rejected) and says so."""
        with self._lock:
            shipment = self._shipments[shipment_id]
            shipment["refund_status"] = status
            shipment["updated_at"] = _stamp()
            event = self._new_event(
                "refund.successful" if status == "refunded" else "refund.updated",
                shipment,
                shipment["mode"],
            )
        self.deliver(event)
        return event

    # -- simulation ----------------------------------------------------------------------------

    def advance(
        self,
        tracking_code,
        status,
        *,
        status_detail=None,
        message=None,
        at=None,
        signed_by=None,
        location=None,
        send=True,
    ):
        """Move a parcel on: a new tracking detail and status, and its tracker.updated event
        (sent to the webhooks unless send=False; deliver() sends it later, in any order)."""
        if status not in TRACKER_STATUSES:
            raise ValueError(f"unknown tracker status {status!r}; expected {TRACKER_STATUSES}")
        with self._lock:
            tracker = self._tracker_by_code(tracking_code)
            if tracker is None:
                raise KeyError(f"no tracker for {tracking_code!r}")
            previous = tracker["status"]
            moment = at or _now()
            detail = {
                "object": "TrackingDetail",
                "message": message or status.replace("_", " ").capitalize(),
                "description": message or "",
                "status": status,
                "status_detail": status_detail or "status_update",
                "datetime": _stamp(moment),
                "source": tracker["carrier"],
                "tracking_location": {
                    "object": "TrackingLocation",
                    "city": (location or {}).get("city", "Memphis"),
                    "state": (location or {}).get("state", "TN"),
                    "country": (location or {}).get("country", "US"),
                    "zip": (location or {}).get("zip", "38118"),
                },
            }
            tracker["tracking_details"].append(detail)
            tracker["tracking_details"].sort(key=lambda d: d["datetime"])
            tracker["status"] = status
            tracker["status_detail"] = detail["status_detail"]
            tracker["updated_at"] = _stamp()
            if signed_by:
                tracker["signed_by"] = signed_by
            event = self._new_event(
                "tracker.updated", tracker, tracker["mode"], previous={"status": previous}
            )
        if send:
            self.deliver(event)
        return event

    def deliver(self, event, times=1):
        """POST an event to every webhook of its mode, ``times`` times (duplicates keep the
        same event id, as EasyPost's retries do). Returns the status codes."""
        with self._lock:
            hooks = [h for h in self._webhooks.values() if h["mode"] == event["mode"]]
            if self.default_webhook and self.default_webhook["mode"] == event["mode"]:
                hooks.append(self.default_webhook)
        body = json.dumps(event).encode()
        statuses = []
        for _time in range(times):
            for hook in hooks:
                headers = {
                    "Content-Type": "application/json",
                    "User-Agent": "EasyPost WebHook Agent 1.0",
                }
                if hook.get("secret"):
                    headers[SIGNATURE_HEADER] = sign(hook["secret"], body)
                try:
                    status = requests.post(hook["url"], data=body, headers=headers, timeout=10)
                    code = status.status_code
                except requests.RequestException as exc:
                    _logger.warning("carrier sandbox: webhook to %s failed: %s", hook["url"], exc)
                    code = None
                statuses.append(code)
                with self._lock:
                    self._deliveries.append(
                        {
                            "event_id": event["id"],
                            "description": event["description"],
                            "url": hook["url"],
                            "status_code": code,
                            "time": time.time(),
                        }
                    )
        return statuses

    def events(self):
        with self._lock:
            return copy.deepcopy(self._events)

    # -- HTTP ----------------------------------------------------------------------------------

    def _serve(self, request):
        if request.path.startswith("/labels/") and request.method == "GET":
            with self._lock:
                label = self._labels.get(request.path.rsplit("/", 1)[-1])
            if label is None:
                return _error(404, "no such label")
            content, content_type = label
            return _Reply(200, raw=content, content_type=content_type)
        if request.path.startswith("/track/") and request.method == "GET":
            return self._tracking_page(request.path.rsplit("/", 1)[-1])
        if not request.path.startswith("/v2/"):
            return _error(404, f"no route for {request.path}")
        mode = self._mode_of(request.headers)
        if mode is None:
            return _Reply(
                401,
                {
                    "error": {
                        "code": "APIKEY.INACTIVE",
                        "message": "This api key is no longer active. Please use a different "
                        "api key or reactivate this key.",
                        "errors": [],
                    }
                },
                headers={"WWW-Authenticate": 'Basic realm="easypost"'},
            )
        if request.body and request.json_error:
            return _ep_error(
                400, "BAD_REQUEST", f"The request body is not JSON: {request.json_error}"
            )
        parts = request.path.strip("/").split("/")[1:]
        resource = parts[0] if parts else ""
        handler = {
            "shipments": self._shipments_api,
            "trackers": self._trackers_api,
            "webhooks": self._webhooks_api,
        }.get(resource)
        if handler is None:
            return _ep_error(
                404, "NOT_FOUND", f"The requested resource {request.path} was not found."
            )
        return handler(request, parts[1:], mode)

    def _tracking_page(self, tracking_code):
        """The carrier's public tracking page (where Odoo's tracking link points)."""
        tracker = self.tracker(tracking_code)
        if tracker is None:
            return _error(404, f"unknown tracking number {tracking_code}")
        rows = "".join(
            f"<tr><td>{html.escape(d['datetime'])}</td><td>{html.escape(d['status'])}</td>"
            f"<td>{html.escape(d['message'] or '')}</td></tr>"
            for d in reversed(tracker["tracking_details"])
        )
        page = (
            f"<html><head><title>{html.escape(tracking_code)}</title></head><body>"
            f"<h1>Parcel {html.escape(tracking_code)}: {html.escape(tracker['status'])}</h1>"
            f"<table>{rows}</table></body></html>"
        )
        return _Reply(200, raw=page.encode(), content_type="text/html; charset=utf-8")

    def _mode_of(self, headers):
        """The key's mode. EasyPost takes the key as the Basic user name (password empty) or
        as a Bearer token (what its official clients send)."""
        scheme, _, credentials = (headers.get("authorization") or "").partition(" ")
        if scheme.lower() == "basic":
            user, _password = _decode_basic(credentials.strip())
        elif scheme.lower() == "bearer":
            user = credentials.strip()
        else:
            return None
        if not user:
            return None
        for key, mode in self.api_keys.items():
            if hmac.compare_digest(user.encode(), key.encode()):
                return mode
        return None

    # shipments ------------------------------------------------------------------------------

    def _shipments_api(self, request, parts, mode):
        if not parts:
            if request.method == "POST":
                return self._create_shipment(request.json, mode)
            if request.method == "GET":
                return self._list_shipments(request.query, mode)
            return _ep_error(405, "METHOD.NOT_ALLOWED", "Use GET or POST.")
        with self._lock:
            shipment = self._find_shipment(parts[0], mode)
        if shipment is None:
            return _ep_error(
                404, "SHIPMENT.NOT_FOUND", f"The shipment {parts[0]} could not be found."
            )
        action = parts[1] if len(parts) > 1 else ""
        if not action and request.method == "GET":
            return self._reply_shipment(shipment)
        if action == "rates" and request.method == "GET":
            return _Reply(200, {"rates": copy.deepcopy(shipment["rates"])})
        if action == "buy" and request.method == "POST":
            return self._buy(shipment, request.json)
        if action == "refund" and request.method == "POST":
            return self._refund(shipment)
        if action == "label" and request.method == "GET":
            return self._convert_label(shipment, request.query.get("file_format", "PDF"))
        return _ep_error(404, "NOT_FOUND", f"The requested resource {request.path} was not found.")

    def _reply_shipment(self, shipment, status=200):
        with self._lock:
            return _Reply(status, copy.deepcopy(shipment))

    def _find_shipment(self, id_or_reference, mode):
        shipment = self._shipments.get(id_or_reference)
        if shipment is None:
            # "reference: may be used in place of id": the latest shipment with it.
            matches = [s for s in self._shipments.values() if s["reference"] == id_or_reference]
            shipment = matches[-1] if matches else None
        return shipment if shipment and shipment["mode"] == mode else None

    def _list_shipments(self, query, mode):
        purchased = query.get("purchased")
        with self._lock:
            items = [s for s in self._shipments.values() if s["mode"] == mode]
            if purchased in ("true", "false"):
                items = [s for s in items if bool(s["postage_label"]) == (purchased == "true")]
            size = int(query.get("page_size") or 20)
            items = copy.deepcopy(list(reversed(items))[:size])
        return _Reply(200, {"shipments": items, "has_more": False})

    def _create_shipment(self, body, mode):
        shipment_in = body.get("shipment") if isinstance(body, dict) else None
        if not isinstance(shipment_in, dict):
            return _ep_error(422, "PARAMETER.REQUIRED", "Missing required parameter: shipment.")
        errors = []
        for side in ("to_address", "from_address"):
            address = shipment_in.get(side)
            if not isinstance(address, dict):
                errors.append({"field": side, "message": "cannot be blank"})
                continue
            for field in ("street1", "city", "country"):
                if not address.get(field):
                    errors.append({"field": f"{side}.{field}", "message": "cannot be blank"})
        parcel = shipment_in.get("parcel")
        weight = parcel.get("weight") if isinstance(parcel, dict) else None
        try:
            weight = float(weight)
        except (TypeError, ValueError):
            weight = 0
        if weight <= 0:
            errors.append({"field": "parcel.weight", "message": "must be greater than 0"})
        if errors:
            return _ep_error(
                422,
                "SHIPMENT.INVALID_PARAMS",
                "Unable to create shipment, one or more parameters were invalid.",
                errors,
            )
        to_address = shipment_in["to_address"]
        if (to_address.get("zip") or "").strip() == UNDELIVERABLE_ZIP:
            return _ep_error(
                422,
                "ADDRESS.VERIFY.FAILURE",
                "Unable to verify address.",
                [{"field": "to_address.zip", "message": "Invalid or missing ZIP code"}],
            )
        options = shipment_in.get("options") if isinstance(shipment_in.get("options"), dict) else {}
        moment = _stamp()
        shipment = {
            "id": _object_id("shp"),
            "object": "Shipment",
            "mode": mode,
            "reference": shipment_in.get("reference"),
            "status": "unknown",
            "is_return": bool(shipment_in.get("is_return")),
            "to_address": {"id": _object_id("adr"), "object": "Address", **to_address},
            "from_address": {
                "id": _object_id("adr"),
                "object": "Address",
                **shipment_in["from_address"],
            },
            "parcel": {"id": _object_id("prcl"), "object": "Parcel", **parcel, "weight": weight},
            "options": {"label_format": "PNG", "currency": "USD", **options},
            "rates": [],
            "selected_rate": None,
            "postage_label": None,
            "tracking_code": None,
            "tracker": None,
            "refund_status": None,
            "messages": [],
            "created_at": moment,
            "updated_at": moment,
        }
        shipment["rates"] = _rates_for(shipment)
        with self._lock:
            self._shipments[shipment["id"]] = shipment
        return self._reply_shipment(shipment, 201)

    def _buy(self, shipment, body):
        rate_in = body.get("rate") if isinstance(body, dict) else None
        rate_id = rate_in.get("id") if isinstance(rate_in, dict) else None
        with self._lock:
            if shipment["postage_label"]:
                return _ep_error(
                    422, "SHIPMENT.POSTAGE.EXISTS", "Postage already exists for this shipment."
                )
            rate = next((r for r in shipment["rates"] if r["id"] == rate_id), None)
            if rate is None:
                return _ep_error(
                    422,
                    "SHIPMENT.RATE.INVALID",
                    f"The rate {rate_id} does not belong to shipment {shipment['id']}.",
                )
            self._sequence += 1
            tracking_code = f"EZ{self._sequence:010d}"
            label_id = _object_id("pl")
            shipment["tracking_code"] = tracking_code
            shipment["selected_rate"] = copy.deepcopy(rate)
            label_format = str(shipment["options"].get("label_format") or "PNG").upper()
            extension = LABEL_FORMATS.get(label_format, "png")
            shipment["postage_label"] = {
                "id": label_id,
                "object": "PostageLabel",
                "label_date": _stamp(),
                "label_resolution": 300,
                "label_size": "4x6",
                "label_type": "default",
                "label_file_type": {
                    "pdf": "application/pdf",
                    "zpl": "application/zpl",
                    "png": "image/png",
                }[extension],
                "label_url": None,
                "label_pdf_url": None,
                "label_zpl_url": None,
                "label_epl2_url": None,
            }
            self._store_label(shipment, extension)
            tracker = self._new_tracker(tracking_code, rate["carrier"], shipment["mode"], shipment)
            shipment["tracker"] = copy.deepcopy(tracker)
            shipment["status"] = "unknown"
            shipment["updated_at"] = _stamp()
            event = self._new_event("tracker.created", tracker, shipment["mode"])
            if self.auto_advance:
                self._schedule_progress(tracking_code)
        if self.announce_trackers:
            # Outside the lock: a webhook receiver may call back into the sandbox.
            threading.Thread(target=self.deliver, args=(event,), daemon=True).start()
        return self._reply_shipment(shipment)

    def _store_label(self, shipment, extension):
        label = shipment["postage_label"]
        name = f"{label['id']}.{extension}"
        content_type = {"pdf": "application/pdf", "zpl": "text/plain", "png": "image/png"}
        self._labels[name] = (_label_file(extension, shipment), content_type[extension])
        url = f"{self.base_url}/labels/{name}"
        if not label["label_url"]:
            label["label_url"] = url
        if extension in ("pdf", "zpl"):
            label[f"label_{extension}_url"] = url

    def _convert_label(self, shipment, file_format):
        extension = LABEL_FORMATS.get(str(file_format).upper())
        if extension is None:
            return _ep_error(422, "SHIPMENT.LABEL.FORMAT", f"Unknown label format {file_format}.")
        with self._lock:
            if not shipment["postage_label"]:
                return _ep_error(422, "SHIPMENT.POSTAGE.MISSING", "The shipment has no label yet.")
            self._store_label(shipment, extension)
        return self._reply_shipment(shipment)

    def _refund(self, shipment):
        with self._lock:
            if not shipment["postage_label"]:
                return _ep_error(
                    422, "SHIPMENT.REFUND.UNAVAILABLE", "The shipment has no postage to refund."
                )
            if shipment["refund_status"] is None:
                tracker = self._trackers.get(shipment["tracker"]["id"])
                moved = tracker and tracker["status"] not in ("unknown", "pre_transit")
                shipment["refund_status"] = "rejected" if moved else "submitted"
                shipment["updated_at"] = _stamp()
        return self._reply_shipment(shipment)

    # trackers -------------------------------------------------------------------------------

    def _tracker_by_code(self, tracking_code):
        return next(
            (t for t in self._trackers.values() if t["tracking_code"] == tracking_code), None
        )

    def _new_tracker(self, tracking_code, carrier, mode, shipment=None):
        moment = _stamp()
        tracker = {
            "id": _object_id("trk"),
            "object": "Tracker",
            "mode": mode,
            "tracking_code": tracking_code,
            "status": "pre_transit",
            "status_detail": "label_created",
            "signed_by": None,
            "weight": None,
            "est_delivery_date": _stamp(_now() + timedelta(days=3)),
            "shipment_id": shipment["id"] if shipment else None,
            "carrier": carrier,
            "tracking_details": [
                {
                    "object": "TrackingDetail",
                    "message": "Shipping label created",
                    "description": "",
                    "status": "pre_transit",
                    "status_detail": "label_created",
                    "datetime": moment,
                    "source": carrier,
                    "tracking_location": {"object": "TrackingLocation"},
                }
            ],
            "public_url": f"{self.base_url}/track/{tracking_code}",
            "created_at": moment,
            "updated_at": moment,
        }
        self._trackers[tracker["id"]] = tracker
        return tracker

    def _trackers_api(self, request, parts, mode):
        if not parts and request.method == "POST":
            body = request.json if isinstance(request.json, dict) else {}
            wanted = body.get("tracker") if isinstance(body.get("tracker"), dict) else {}
            code = wanted.get("tracking_code")
            if not code:
                return _ep_error(422, "TRACKER.TRACKING_CODE.MISSING", "tracking_code is required.")
            with self._lock:
                tracker = self._tracker_by_code(code)
                if tracker is None or tracker["mode"] != mode:
                    tracker = self._new_tracker(code, wanted.get("carrier") or "USPS", mode)
                return _Reply(201, copy.deepcopy(tracker))
        if not parts and request.method == "GET":
            codes = {v for k, v in request.query.items() if k.startswith("tracking_code")}
            with self._lock:
                items = [
                    copy.deepcopy(t)
                    for t in self._trackers.values()
                    if t["mode"] == mode and (not codes or t["tracking_code"] in codes)
                ]
            return _Reply(200, {"trackers": items, "has_more": False})
        if len(parts) == 1 and request.method == "GET":
            with self._lock:
                tracker = self._trackers.get(parts[0])
                if tracker and tracker["mode"] == mode:
                    return _Reply(200, copy.deepcopy(tracker))
            return _ep_error(
                404, "TRACKER.NOT_FOUND", f"The tracker {parts[0]} could not be found."
            )
        return _ep_error(405, "METHOD.NOT_ALLOWED", "Not allowed.")

    # webhooks -------------------------------------------------------------------------------

    def _webhooks_api(self, request, parts, mode):
        if not parts and request.method == "POST":
            body = request.json if isinstance(request.json, dict) else {}
            wanted = body.get("webhook") if isinstance(body.get("webhook"), dict) else {}
            if not wanted.get("url"):
                return _ep_error(422, "WEBHOOK.URL.MISSING", "url is required.")
            hook = {
                "id": _object_id("hook"),
                "object": "Webhook",
                "mode": mode,
                "url": wanted["url"],
                "secret": wanted.get("webhook_secret"),
                "disabled_at": None,
            }
            with self._lock:
                self._webhooks[hook["id"]] = hook
            return _Reply(201, {k: v for k, v in hook.items() if k != "secret"})
        if not parts and request.method == "GET":
            with self._lock:
                items = [
                    {k: v for k, v in h.items() if k != "secret"}
                    for h in self._webhooks.values()
                    if h["mode"] == mode
                ]
            return _Reply(200, {"webhooks": items})
        if len(parts) == 1 and request.method == "DELETE":
            with self._lock:
                hook = self._webhooks.pop(parts[0], None)
            if hook is None:
                return _ep_error(404, "WEBHOOK.NOT_FOUND", "No such webhook.")
            return _Reply(200, {})
        return _ep_error(405, "METHOD.NOT_ALLOWED", "Not allowed.")

    # events -----------------------------------------------------------------------------------

    def _new_event(self, description, result, mode, previous=None):
        moment = _stamp()
        event = {
            "id": _object_id("evt"),
            "object": "Event",
            "mode": mode,
            "description": description,
            "previous_attributes": previous or {},
            "result": copy.deepcopy(result),
            "status": "pending",
            "pending_urls": [],
            "completed_urls": [],
            "created_at": moment,
            "updated_at": moment,
        }
        self._events.append(event)
        return copy.deepcopy(event)

    def _schedule_progress(self, tracking_code):
        """The demo's parcels move on by themselves, one step every auto_advance seconds."""
        steps = [
            ("in_transit", "arrived_at_facility", "Arrived at the sorting facility"),
            ("out_for_delivery", "out_for_delivery", "Out for delivery"),
            ("delivered", "arrived_at_destination", "Delivered, front door"),
        ]
        for number, (status, detail, text) in enumerate(steps, 1):
            timer = threading.Timer(
                self.auto_advance * number,
                self._advance_quietly,
                args=(tracking_code, status, detail, text),
            )
            timer.daemon = True
            self._timers.append(timer)
            timer.start()

    def _advance_quietly(self, tracking_code, status, detail, text):
        try:
            self.advance(tracking_code, status, status_detail=detail, message=text)
        except (KeyError, ValueError) as exc:
            _logger.info("carrier sandbox: no automatic step for %s: %s", tracking_code, exc)

    # -- test controls over HTTP (the demo) ----------------------------------------------------

    def _control(self, request):
        parts = request.path.strip("/").split("/")[1:]
        payload = request.json if isinstance(request.json, dict) else {}
        if parts[:1] == ["trackers"] and len(parts) == 3 and parts[2] == "advance":
            try:
                event = self.advance(
                    parts[1],
                    payload.get("status"),
                    status_detail=payload.get("status_detail"),
                    message=payload.get("message"),
                    signed_by=payload.get("signed_by"),
                )
            except (KeyError, ValueError) as exc:
                return _error(400, str(exc))
            return _Reply(200, {"event": event["id"], "deliveries": self.deliveries[-1:]})
        if parts == ["shipments"] and request.method == "GET":
            return _Reply(200, {"shipments": self.shipments()})
        return super()._control(request)


def start_demo(port=None, odoo_url=None, auto_advance=20):
    """The demo carrier (scripts/run): EasyPost-like API on 127.0.0.1:8703, the demo API key,
    webhooks signed with the demo secret and sent to the demo carrier's webhook URL in Odoo;
    parcels move on by themselves every ``auto_advance`` seconds. Returns the started sandbox."""
    odoo_url = (odoo_url or "http://127.0.0.1:8069").rstrip("/")
    sandbox = CarrierSandbox(
        port=port or DEMO_PORT,
        api_keys={DEMO_API_KEY: "test"},
        webhook_url=f"{odoo_url}/logistics/webhook/{DEMO_WEBHOOK_TOKEN}",
        webhook_secret=DEMO_WEBHOOK_SECRET,
        auto_advance=auto_advance,
    )
    sandbox.start()
    return sandbox
