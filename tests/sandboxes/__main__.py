"""Run the demo partners until SIGINT/SIGTERM: `python -m tests.sandboxes` from the repo root.

- Generic REST partner on http://127.0.0.1:8701 (env LC_SANDBOX_HTTP_PORT), bearer token
  "demo-partner-token". Its webhooks are signed with LC_DEMO_WEBHOOK_SECRET, or else with the
  fixed demo secret DEMO_WEBHOOK_SECRET below (the demo backend must use the same one).
  Faults can be injected over HTTP, e.g.
  curl -X POST localhost:8701/_control/faults -d '{"kind": "status", "status": 503, "count": 2}'
- 3PL partner: a ShipBob-like warehouse on 127.0.0.1:8702 (env LC_SANDBOX_3PL_PORT) that
  acknowledges, picks, packs and ships each new order by itself, with signed webhooks to Odoo
  (demo constants in tests/sandboxes/threepl_partner.py).
- Extensiv-like 3PL (Warehouse Manager) on 127.0.0.1:8705 (env LC_SANDBOX_EXTENSIV_PORT) that
  ships each new order, receives each receipt notice and restocks each return by itself; Odoo
  polls it (demo constants in tests/sandboxes/threepl_extensiv.py).
- Carrier partners: an EasyPost-like REST carrier on 127.0.0.1:8703 (env
  LC_SANDBOX_CARRIER_PORT; its webhooks go to Odoo on LC_HTTP_PORT, 8069) and a SOAP carrier on
  127.0.0.1:8704 (env LC_SANDBOX_SOAP_PORT), with the demo credentials of
  tests/sandboxes/carrier_partner.py and carrier_soap.py.
- SFTP partner on 127.0.0.1:8722 (env LC_SANDBOX_SFTP_PORT), rooted at .local/sftp-demo, when
  tests/sandboxes/sftp_server.py is available. Its host key line and the client private key
  are written to .local/sftp-demo-credentials/ (host_key, known_hosts, client_key,
  connection.json). Both keys are new on every start: re-read them after a restart.

- X12 trading partner (tests/sandboxes/edi_partner.py) working the SFTP server's edi/ folders:
  it answers 940/943/856 files with 997s, then 945/944 and 846s.
- Flat-file 3PL (tests/sandboxes/threepl_flatfile.py) working the SFTP server's 3pl/ folders:
  it answers order, receipt-notice and return-authorization CSV files with shipment, receipt
  and return files.

These are demo credentials for loopback servers only; never reuse them anywhere else.
"""

import io
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from .carrier_partner import start_demo as start_carrier_demo
from .carrier_soap import start_soap_demo
from .http_partner import GenericPartnerSandbox
from .threepl_extensiv import DEMO_PORT as EXTENSIV_DEMO_PORT
from .threepl_extensiv import start_demo as start_extensiv_demo
from .threepl_partner import DEMO_PORT as THREEPL_DEMO_PORT
from .threepl_partner import start_demo as start_threepl_demo

DEMO_BEARER_TOKEN = "demo-partner-token"
# base64 of b"logistics-connector-demo-secret!" (32 bytes), in Standard Webhooks form.
DEMO_WEBHOOK_SECRET = "whsec_bG9naXN0aWNzLWNvbm5lY3Rvci1kZW1vLXNlY3JldCE="

REPO_ROOT = Path(__file__).resolve().parents[2]
SFTP_ROOT = REPO_ROOT / ".local" / "sftp-demo"
SFTP_CREDENTIALS = REPO_ROOT / ".local" / "sftp-demo-credentials"


def _port(variable, default):
    value = os.environ.get(variable, "")
    try:
        return int(value) if value else default
    except ValueError:
        sys.exit(f"{variable} must be a port number, not {value!r}")


def _write_private(path, text):
    # Created 0600 from the start: ssh clients refuse group/world-readable keys.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def _private_key_text(key):
    if isinstance(key, bytes):
        return key.decode()
    if isinstance(key, str):
        return key
    # A paramiko PKey object rather than its PEM text.
    buffer = io.StringIO()
    key.write_private_key(buffer)
    return buffer.getvalue()


def _start_sftp(port):
    try:
        from .sftp_server import SftpServer
    except Exception as exc:  # a missing module or a missing dependency (paramiko) alike
        print(f"SFTP sandbox not available ({exc}); continuing without it", flush=True)
        return None
    SFTP_ROOT.mkdir(parents=True, exist_ok=True)
    server = SftpServer(str(SFTP_ROOT), port=port)
    try:
        server.start()
    except Exception as exc:
        # The REST partner is still worth running for the demo.
        print(f"SFTP sandbox not available (start failed: {exc}); continuing", flush=True)
        return None
    SFTP_CREDENTIALS.mkdir(parents=True, exist_ok=True)
    os.chmod(SFTP_CREDENTIALS, 0o700)
    host_key = server.host_key_line.strip()
    (SFTP_CREDENTIALS / "host_key").write_text(host_key + "\n")
    # OpenSSH's known_hosts names non-default ports as [host]:port.
    known_host = f"[{server.host}]:{server.port} {host_key}"
    (SFTP_CREDENTIALS / "known_hosts").write_text(known_host + "\n")
    _write_private(SFTP_CREDENTIALS / "client_key", _private_key_text(server.client_private_key))
    connection = {
        "host": server.host,
        "port": server.port,
        "username": server.username,
        "root_dir": str(SFTP_ROOT),
        "host_key": host_key,
        "known_hosts": str(SFTP_CREDENTIALS / "known_hosts"),
        "client_key": str(SFTP_CREDENTIALS / "client_key"),
    }
    (SFTP_CREDENTIALS / "connection.json").write_text(json.dumps(connection, indent=2) + "\n")
    print(
        f"SFTP partner sandbox: sftp://{server.username}@{server.host}:{server.port} "
        f"(root {SFTP_ROOT}, credentials in {SFTP_CREDENTIALS})",
        flush=True,
    )
    return server


def _start_edi_partner(sftp):
    """The X12 trading partner working edi/ folders of the SFTP demo server (a thread)."""
    if sftp is None:
        return None
    try:
        from .edi_partner import EdiPartner
    except Exception as exc:  # a missing module or a missing dependency alike
        print(f"EDI partner sandbox not available ({exc}); continuing without it", flush=True)
        return None
    partner = EdiPartner(SFTP_ROOT / "edi", carrier_updates=True)
    threading.Thread(target=partner.run_forever, name="edi-partner", daemon=True).start()
    print(f"EDI partner sandbox: X12 3PL working {SFTP_ROOT / 'edi'}", flush=True)
    return partner


class _FlatFilePartnerThread:
    """The flat-file 3PL working the SFTP demo server's 3pl/ folders, stopped with the rest."""

    def __init__(self, root):
        from .threepl_flatfile import FlatFilePartner

        self.partner = FlatFilePartner(root)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self.partner.run_forever, args=(self._stop,), name="flatfile-3pl", daemon=True
        )

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=10)


def _start_flatfile_partner(sftp):
    """The legacy flat-file 3PL working 3pl/ folders of the SFTP demo server (a thread)."""
    if sftp is None:
        return None
    partner = _FlatFilePartnerThread(SFTP_ROOT / "3pl").start()
    print(f"Flat-file 3PL sandbox: CSV files in {SFTP_ROOT / '3pl'}", flush=True)
    return partner


def main():
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s"
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    started = []
    try:
        http_partner = GenericPartnerSandbox(
            port=_port("LC_SANDBOX_HTTP_PORT", 8701),
            auth={"kind": "bearer", "token": DEMO_BEARER_TOKEN},
            webhook_secret=os.environ.get("LC_DEMO_WEBHOOK_SECRET") or DEMO_WEBHOOK_SECRET,
        )
        http_partner.start()
        started.append(http_partner)
        print(f"HTTP partner sandbox: {http_partner.base_url} (bearer auth)", flush=True)
        sftp = _start_sftp(_port("LC_SANDBOX_SFTP_PORT", 8722))
        if sftp is not None:
            started.append(sftp)
        edi = _start_edi_partner(sftp)
        if edi is not None:
            started.append(edi)
        flatfile = _start_flatfile_partner(sftp)
        if flatfile is not None:
            started.append(flatfile)
        threepl = start_threepl_demo(
            port=_port("LC_SANDBOX_3PL_PORT", THREEPL_DEMO_PORT),
            odoo_url=f"http://127.0.0.1:{_port('LC_HTTP_PORT', 8069)}",
        )
        started.append(threepl)
        print(
            f"3PL partner sandbox (ShipBob-like): {threepl.api_url}, ships new orders by itself",
            flush=True,
        )
        extensiv = start_extensiv_demo(port=_port("LC_SANDBOX_EXTENSIV_PORT", EXTENSIV_DEMO_PORT))
        started.append(extensiv)
        print(
            f"3PL partner sandbox (Extensiv-like): {extensiv.base_url}, polled by Odoo", flush=True
        )
        carrier = start_carrier_demo(
            port=_port("LC_SANDBOX_CARRIER_PORT", 8703),
            odoo_url=f"http://127.0.0.1:{_port('LC_HTTP_PORT', 8069)}",
        )
        started.append(carrier)
        print(f"Carrier sandbox (EasyPost-like): {carrier.base_url}", flush=True)
        soap_carrier = start_soap_demo(port=_port("LC_SANDBOX_SOAP_PORT", 8704))
        started.append(soap_carrier)
        print(f"SOAP carrier sandbox: {soap_carrier.endpoint}?wsdl", flush=True)
        print("Partner sandboxes running; stop with Ctrl-C or SIGTERM", flush=True)
        # A timed wait keeps the main thread responsive to signals.
        while not stop.wait(1):
            pass
    except OSError as exc:
        print(f"Cannot start the partner sandboxes: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        for sandbox in reversed(started):
            sandbox.stop()
        if started:
            print("Partner sandboxes stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
