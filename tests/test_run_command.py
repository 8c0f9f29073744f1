"""The main job, tried as a user would: `scripts/run` brings up PostgreSQL, the sandboxes and
Odoo with the demo database; headless Chromium logs in through the login page and opens the
Logistics app (an Odoo tour); Ctrl-C (SIGINT) stops every process the command started.

A plain TestCase: it talks to the command from outside, over HTTP and the Chrome DevTools
protocol, like a person with a browser."""

import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import websocket

from odoo.addons.logistics_connector_base.lib import webhook_signature

REPO_ROOT = Path(__file__).resolve().parents[1]
DEMO_DB = "lc_run_smoke"
# The demo 3PL's signing secret (logistics_connector_base/demo/logistics_backend_demo.xml).
DEMO_WEBHOOK_SECRET = "whsec_bG9naXN0aWNzLWNvbm5lY3Rvci1kZW1vLXNlY3JldCE="


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DevToolsPage:
    """A headless Chromium page driven through the DevTools protocol."""

    def __init__(self):
        self.port = free_port()
        self.profile = tempfile.mkdtemp(prefix="lc-chromium-")
        self.log = tempfile.NamedTemporaryFile(prefix="lc-chromium-", suffix=".log")
        self.process = subprocess.Popen(
            [
                shutil.which("chromium") or shutil.which("chromium-browser"),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--remote-debugging-port={self.port}",
                f"--user-data-dir={self.profile}",
                "--window-size=1366,768",
                "--enable-logging=stderr",
                "about:blank",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            preexec_fn=_unlimited_address_space,
        )
        deadline = time.monotonic() + 90
        while True:
            try:
                targets = requests.get(f"http://127.0.0.1:{self.port}/json", timeout=2).json()
                break
            except requests.RequestException:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.log.seek(0)
                    raise RuntimeError(
                        f"Chromium did not start (exit {self.process.poll()}): "
                        f"{self.log.read().decode(errors='replace')[-3000:]}"
                    ) from None
                time.sleep(0.2)
        page = next(t for t in targets if t["type"] == "page")
        self.socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=5)
        self.counter = 0
        self.console = []
        self.call("Runtime.enable")
        self.call("Page.enable")

    def _read(self):
        message = json.loads(self.socket.recv())
        if message.get("method") == "Runtime.consoleAPICalled":
            text = " ".join(str(arg.get("value", "")) for arg in message["params"]["args"])
            self.console.append(text)
        return message

    def call(self, method, **params):
        self.counter += 1
        self.socket.send(json.dumps({"id": self.counter, "method": method, "params": params}))
        while True:
            message = self._read()
            if message.get("id") == self.counter:
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def wait_for(self, expression, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.evaluate(expression):
                return True
            time.sleep(0.3)
        return False

    def wait_console(self, needles, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.console:
                for needle in needles:
                    if needle in line:
                        return needle
            try:
                self._read()
            except websocket.WebSocketTimeoutException:
                continue
        return None

    def close(self):
        self.socket.close()
        self.process.kill()
        self.process.wait(timeout=10)
        shutil.rmtree(self.profile, ignore_errors=True)
        self.log.close()


# Every demo partner's port knob: the test's sandboxes never collide with a running demo.
SANDBOX_PORTS = (
    "LC_SANDBOX_HTTP_PORT",
    "LC_SANDBOX_SFTP_PORT",
    "LC_SANDBOX_3PL_PORT",
    "LC_SANDBOX_CARRIER_PORT",
    "LC_SANDBOX_SOAP_PORT",
    "LC_SANDBOX_EXTENSIV_PORT",
)


class TestRunCommand(unittest.TestCase):
    def test_run_brings_up_the_demo_a_browser_logs_in_and_ctrl_c_stops_it(self):
        http_port = free_port()
        env = dict(os.environ)
        env.pop("ODOO_QUEUE_JOB_CHANNELS", None)  # the main job runs its job runner
        env.update(
            LC_DEMO_DB=DEMO_DB,
            LC_HTTP_PORT=str(http_port),
            **{name: str(free_port()) for name in SANDBOX_PORTS},
        )
        output = tempfile.NamedTemporaryFile(prefix="lc-run-", suffix=".log", delete=False)
        self.addCleanup(os.unlink, output.name)
        run = subprocess.Popen(
            ["bash", str(REPO_ROOT / "scripts" / "run"), "--reset"],
            cwd=REPO_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_unlimited_address_space,
        )
        self.addCleanup(self._drop_demo_database)
        self.addCleanup(_kill_group, run)
        text = ""
        deadline = time.monotonic() + 600
        while "Logistics Connector is running" not in text:
            self.assertIsNone(run.poll(), f"scripts/run stopped early:\n{text}")
            self.assertLess(time.monotonic(), deadline, f"scripts/run never got ready:\n{text}")
            time.sleep(1)
            text = Path(output.name).read_text(errors="replace")
        self.assertIn("Login:    admin", text)

        page = DevToolsPage()
        self.addCleanup(page.close)
        base = f"http://127.0.0.1:{http_port}"
        page.call("Page.navigate", url=f"{base}/web/login?debug=tests")
        self.assertTrue(
            page.wait_for("typeof odoo !== 'undefined' && !!odoo.startTour", 60),
            "the login page loaded Odoo's tour runner",
        )
        page.evaluate(
            "odoo.startTour('logistics_connector_demo_login', "
            "{stepDelay: 0, keepWatchBrowser: false, startUrl: '/web/login'})"
        )
        outcome = page.wait_console(["tour succeeded", "tour failed", "FAILED"], 120)
        self.assertEqual(outcome, "tour succeeded", "\n".join(page.console[-20:]))
        self._same_delivery_sent_twenty_times_at_once_is_stored_once(base)

        os.killpg(run.pid, signal.SIGINT)
        run.wait(timeout=60)
        with self.assertRaises(requests.ConnectionError):
            requests.get(f"{base}/web/health", timeout=2)
        leftovers = subprocess.run(
            ["pgrep", "-f", "--", f"--http-port={http_port}"], capture_output=True, text=True
        )
        self.assertEqual(leftovers.returncode, 1, f"Odoo still runs: {leftovers.stdout}")
        for port in (env[name] for name in SANDBOX_PORTS):
            with socket.socket() as probe:
                self.assertNotEqual(
                    probe.connect_ex(("127.0.0.1", int(port))), 0, f"a sandbox still on {port}"
                )

    def _same_delivery_sent_twenty_times_at_once_is_stored_once(self, base):
        """A partner retrying impatiently: every copy is answered 202 or 200, never 503 (the
        serialization failure between the copies is retried by Odoo, as it should be)."""
        body = json.dumps(
            {
                "type": "tracking.updated",
                "data": {
                    "schema": "tracking_event/1",
                    "tracking_number": "1ZCONCURRENT",
                    "status": "in_transit",
                    "occurred_at": "2026-11-20T10:00:00Z",
                },
            }
        ).encode()
        timestamp = int(time.time())
        headers = {
            "webhook-id": "msg_concurrent_duplicate",
            "webhook-timestamp": str(timestamp),
            "webhook-signature": webhook_signature.sign(
                DEMO_WEBHOOK_SECRET, "msg_concurrent_duplicate", timestamp, body
            ),
            "Content-Type": "application/json",
        }
        barrier = threading.Barrier(20)

        def deliver(_index):
            barrier.wait(timeout=30)
            return requests.post(
                f"{base}/logistics/webhook/demo-3pl-webhook", data=body, headers=headers, timeout=60
            ).status_code

        with ThreadPoolExecutor(max_workers=20) as pool:
            statuses = sorted(pool.map(deliver, range(20)))
        self.assertEqual(statuses.count(202), 1, statuses)
        self.assertEqual(statuses.count(200), 19, statuses)

    def _drop_demo_database(self):
        subprocess.run(
            [
                "bash",
                "-c",
                'source scripts/common.sh && find_pg_bin && "$PG_BIN_DIR/dropdb" '
                f'-h "$PG_SOCKET_DIR" -p "$PG_PORT" -U "$PG_ROLE" --if-exists --force {DEMO_DB}',
            ],
            cwd=REPO_ROOT,
            check=False,
            capture_output=True,
        )


def _unlimited_address_space():
    # Odoo's server, started in this process by the HTTP tests, caps the address space
    # (limit_memory_hard); Chromium reserves far more than that and would crash.
    resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def _kill_group(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
