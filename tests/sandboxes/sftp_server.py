"""A real OpenSSH SFTP server on loopback, for tests and demos.

Runs ``/usr/sbin/sshd -D -e -f <generated config>`` on 127.0.0.1 with its own generated host
key and one generated client key pair, ``internal-sftp`` as the only command, and key
authentication only. It never touches the system sshd or ~/.ssh.

    with SftpServer("/tmp/partner") as server:
        SftpTransport(server.host, server.port, server.username,
                      private_key=server.client_private_key, host_key=server.host_key_line)
"""

import getpass
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

SSHD = "/usr/sbin/sshd"
START_TIMEOUT = 15.0


def generate_key_pair(key_type="ed25519"):
    """(private key text, public key line) of a new ``ed25519`` or ``rsa`` key.

    Ed25519 keys come in OpenSSH format, RSA keys in PEM (both formats must be accepted).
    """
    if key_type == "ed25519":
        key = ed25519.Ed25519PrivateKey.generate()
        private_format = serialization.PrivateFormat.OpenSSH
    elif key_type == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private_format = serialization.PrivateFormat.TraditionalOpenSSL
    else:
        raise ValueError(f"unsupported key type {key_type!r}")
    private = key.private_bytes(
        serialization.Encoding.PEM, private_format, serialization.NoEncryption()
    ).decode("ascii")
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode("ascii")
    )
    return private, public


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SftpServer:
    """OpenSSH sshd serving SFTP on 127.0.0.1; clients start in ``root_dir``.

    Attributes once started: ``host``, ``port``, ``username``, ``host_key_line``
    (``"ssh-ed25519 AAAA..."``), ``client_private_key`` (text), ``client_public_key``,
    ``root_dir``. Paths may be given relative to ``root_dir`` or absolute.
    """

    host = "127.0.0.1"

    def __init__(
        self, root_dir, port=0, username=None, host_key_type="ed25519", client_key_type="ed25519"
    ):
        self.root_dir = str(Path(root_dir).resolve())
        self.requested_port = int(port or 0)
        self.port = None
        self.username = username or getpass.getuser()
        self.host_key_type = host_key_type
        self.client_key_type = client_key_type
        self.host_key_line = None
        self.client_private_key = None
        self.client_public_key = None
        self.workdir = None
        self.log_path = None
        self._process = None
        self._log = None

    # -- lifecycle ----------------------------------------------------------------------------
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def start(self):
        if self._process is not None:
            return self
        if not os.path.exists(SSHD):
            raise RuntimeError(f"{SSHD} is not installed (package openssh-server)")
        if os.geteuid() == 0:
            # sshd started by root refuses to run without its privilege separation directory
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        os.makedirs(self.root_dir, exist_ok=True)
        self.workdir = tempfile.mkdtemp(prefix="lc-sftp-")
        self._write_keys()
        attempts = 1 if self.requested_port else 3
        for attempt in range(attempts):
            # a free port can be taken between the probe and sshd's bind: try again then
            self.port = self.requested_port or _free_port()
            self._spawn()
            try:
                self._wait_ready()
                return self
            except RuntimeError:
                self._terminate()
                if attempt == attempts - 1:
                    log = self.read_log()
                    self._cleanup()
                    raise RuntimeError(f"sshd did not start on port {self.port}:\n{log}") from None
        return self

    def stop(self):
        self._terminate()
        self._cleanup()

    # -- internals ----------------------------------------------------------------------------
    def _write_keys(self):
        work = Path(self.workdir)
        host_private, self.host_key_line = generate_key_pair(self.host_key_type)
        host_key = work / "ssh_host_key"
        host_key.write_text(host_private)
        host_key.chmod(0o600)  # sshd refuses readable private host keys
        self.client_private_key, self.client_public_key = generate_key_pair(self.client_key_type)
        authorized = work / "authorized_keys"
        authorized.write_text(self.client_public_key + " lc-sandbox-client\n")
        authorized.chmod(0o600)

    def _start_dir(self):
        """sshd_config cannot quote the -d argument: reach a root with spaces by a link."""
        if not any(ch.isspace() for ch in self.root_dir):
            return self.root_dir
        link = Path(self.workdir) / "root"
        if not link.exists():
            link.symlink_to(self.root_dir, target_is_directory=True)
        return str(link)

    def _config_text(self):
        work = Path(self.workdir)
        return "\n".join(
            [
                f"Port {self.port}",
                "ListenAddress 127.0.0.1",
                f"HostKey {work / 'ssh_host_key'}",
                f"PidFile {work / 'sshd.pid'}",
                f"AuthorizedKeysFile {work / 'authorized_keys'}",
                "AuthenticationMethods publickey",
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "UsePAM no",
                # the temp dir and root_dir belong to whoever runs the tests
                "StrictModes no",
                "PermitRootLogin prohibit-password",
                f"AllowUsers {self.username}",
                "AllowTcpForwarding no",
                "X11Forwarding no",
                "PermitTTY no",
                "UseDNS no",
                "Subsystem sftp internal-sftp",
                f"ForceCommand internal-sftp -d {self._start_dir()}",
                "LogLevel INFO",
                "",
            ]
        )

    def _spawn(self):
        config = Path(self.workdir) / "sshd_config"
        config.write_text(self._config_text())
        self.log_path = str(Path(self.workdir) / "sshd.log")
        self._log = open(self.log_path, "ab")  # closed in _terminate
        self._process = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # own process group: stop() also ends the per-connection children
            start_new_session=True,
        )

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError("sshd exited")
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as conn:
                    conn.settimeout(2)
                    if conn.recv(4).startswith(b"SSH-"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("sshd did not answer in time")

    def _terminate(self):
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def _cleanup(self):
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def read_log(self):
        """What sshd logged so far (useful when a test fails)."""
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as handle:
                return handle.read()
        except (OSError, TypeError):
            return ""

    def path(self, *parts):
        """Absolute path under ``root_dir`` on the local disk."""
        return os.path.join(self.root_dir, *parts)
