"""SftpTransport against a real OpenSSH server (tests/sandboxes/sftp_server.py) on loopback."""

import base64
import hashlib
import os
import socket
import sys
import threading
from pathlib import Path

import pytest

from odoo.addons.logistics_connector_base.lib.errors import (
    BusinessError,
    ConfigurationError,
    TransientError,
)
from odoo.addons.logistics_connector_base.lib.transports.sftp import (
    SftpTransport,
    file_fingerprint,
)

try:
    from tests.sandboxes.sftp_server import SftpServer, generate_key_pair
except ImportError:  # run from elsewhere than the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.sandboxes.sftp_server import SftpServer, generate_key_pair


def openssh_fingerprint(public_line):
    """What `ssh-keygen -lf` prints for a public key line, computed independently."""
    blob = base64.b64decode(public_line.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with SftpServer(tmp_path_factory.mktemp("sftp-root")) as running:
        yield running


@pytest.fixture
def root(server):
    """A fresh folder per test inside the server root; paths relative to the login dir."""
    folder = Path(server.root_dir) / f"case-{os.urandom(4).hex()}"
    folder.mkdir()
    return folder


def connect(server, **overrides):
    options = {
        "private_key": server.client_private_key,
        "host_key": server.host_key_line,
        "timeout": 10,
    }
    options.update(overrides)
    return SftpTransport(server.host, server.port, server.username, **options)


def test_list_files_skips_folders_hidden_and_partial_files(server, root):
    inbox = root / "out"
    inbox.mkdir()
    (inbox / "shp_002.csv").write_bytes(b"b" * 20)
    (inbox / "shp_001.csv").write_bytes(b"a" * 10)
    (inbox / ".shp_003.csv.part").write_bytes(b"partial")
    (inbox / "inv_004.csv.filepart").write_bytes(b"partial")
    (inbox / "archive").mkdir()
    os.utime(inbox / "shp_001.csv", (1_700_000_000, 1_700_000_000))
    os.utime(inbox / "shp_002.csv", (1_700_000_100, 1_700_000_100))
    with connect(server) as sftp:
        assert sftp.list_files(f"{root.name}/out") == [
            ("shp_001.csv", 10, 1_700_000_000),
            ("shp_002.csv", 20, 1_700_000_100),
        ]
        # absolute paths work as well
        assert len(sftp.list_files(str(inbox))) == 2
        with pytest.raises(ConfigurationError, match="does not exist on the SFTP server"):
            sftp.list_files(f"{root.name}/nowhere")


def test_read(server, root):
    payload = os.urandom(300_000)
    (root / "big.bin").write_bytes(payload)
    with connect(server) as sftp:
        assert sftp.read(f"{root.name}/big.bin") == payload
        with pytest.raises(BusinessError, match="it does not exist"):
            sftp.read(f"{root.name}/gone.csv")


def test_upload_atomic(server, root):
    with connect(server) as sftp:
        sftp.ensure_folder(f"{root.name}/in")
        final = sftp.upload_atomic(f"{root.name}/in", "ord_42.csv", b"ref,sku,qty\n42,A,1\n")
        assert final == f"{root.name}/in/ord_42.csv"
        # a retried upload of the same file replaces it
        sftp.upload_atomic(f"{root.name}/in", "ord_42.csv", b"ref,sku,qty\n42,A,2\n")
    assert (root / "in" / "ord_42.csv").read_bytes() == b"ref,sku,qty\n42,A,2\n"
    assert sorted(p.name for p in (root / "in").iterdir()) == ["ord_42.csv"]


def test_upload_goes_through_a_hidden_partial_name(server, root):
    # a folder squatting the final name makes the last step (rename) fail: what is left
    # shows the content was written under the temporary name, complete
    (root / "in").mkdir()
    (root / "in" / "ord_43.csv").mkdir()
    data = b"x" * 100_000
    with connect(server) as sftp, pytest.raises(TransientError):
        sftp.upload_atomic(f"{root.name}/in", "ord_43.csv", data)
    assert (root / "in" / ".ord_43.csv.part").read_bytes() == data
    assert (root / "in" / "ord_43.csv").is_dir()


def test_upload_never_shows_a_partial_final_file(server, root):
    (root / "in").mkdir()
    data = os.urandom(4 * 1024 * 1024)
    final = root / "in" / "inv_big.csv"
    seen = []
    done = threading.Event()

    def watch():
        while not done.is_set():
            if final.exists():
                seen.append(final.stat().st_size)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with connect(server) as sftp:
            sftp.upload_atomic(f"{root.name}/in", "inv_big.csv", data)
    finally:
        done.set()
        watcher.join(timeout=10)
    assert final.read_bytes() == data
    # whenever the partner could see the final name, the file was complete
    assert all(size == len(data) for size in seen)


def test_upload_refuses_path_like_names(server, root):
    with connect(server) as sftp:
        for name in ("../escape.csv", "", ".."):
            with pytest.raises(ConfigurationError, match="Invalid file name"):
                sftp.upload_atomic(root.name, name, b"x")


def test_move_adds_a_suffix_when_the_name_is_taken(server, root):
    (root / "out").mkdir()
    (root / "out" / "shp_1.csv").write_bytes(b"new")
    (root / "out" / "shp_2").write_bytes(b"no extension")
    with connect(server) as sftp:
        sftp.ensure_folder(f"{root.name}/out/archive")
        (root / "out" / "archive" / "shp_1.csv").write_bytes(b"old")
        moved = sftp.move(f"{root.name}/out/shp_1.csv", f"{root.name}/out/archive")
        assert moved.startswith(f"{root.name}/out/archive/shp_1.")
        assert moved.endswith(".csv") and moved != f"{root.name}/out/archive/shp_1.csv"
        plain = sftp.move(f"{root.name}/out/shp_2", f"{root.name}/out/archive")
        assert plain == f"{root.name}/out/archive/shp_2"
        # same name again in the same second: a counter keeps both
        (root / "out" / "shp_1.csv").write_bytes(b"newer")
        again = sftp.move(f"{root.name}/out/shp_1.csv", f"{root.name}/out/archive")
        assert again not in (moved, f"{root.name}/out/archive/shp_1.csv")
        with pytest.raises(BusinessError, match="it does not exist"):
            sftp.move(f"{root.name}/out/missing.csv", f"{root.name}/out/archive")
    archive = root / "out" / "archive"
    assert (archive / "shp_1.csv").read_bytes() == b"old"
    assert (root / moved.split("/", 1)[1]).read_bytes() == b"new"
    assert (root / again.split("/", 1)[1]).read_bytes() == b"newer"
    assert len(list(archive.iterdir())) == 4
    assert sorted(p.name for p in (root / "out").iterdir()) == ["archive"]


def test_ensure_folder(server, root):
    with connect(server) as sftp:
        assert sftp.ensure_folder(f"{root.name}/a/b/c") == f"{root.name}/a/b/c"
        sftp.ensure_folder(f"{root.name}/a/b/c")  # idempotent
        sftp.ensure_folder(str(root / "abs" / "path"))
        (root / "file").write_text("x")
        with pytest.raises(ConfigurationError, match="is a file, not a folder"):
            sftp.ensure_folder(f"{root.name}/file/sub")
    assert (root / "a" / "b" / "c").is_dir()
    assert (root / "abs" / "path").is_dir()


def test_different_host_key_is_refused_with_the_offered_fingerprint(server):
    _private, other_public = generate_key_pair("ed25519")
    with pytest.raises(ConfigurationError) as caught:
        connect(server, host_key=other_public).connect()
    error = caught.value
    offered = openssh_fingerprint(server.host_key_line)
    assert error.message.startswith(
        f"The SFTP server 127.0.0.1:{server.port} offered a ssh-ed25519 host key with "
        f"fingerprint {offered}, which is not the pinned key (ssh-ed25519 "
        f"{openssh_fingerprint(other_public)})."
    )
    assert error.details == {"offered_key_type": "ssh-ed25519", "offered_fingerprint": offered}


def test_host_key_of_another_type_is_refused(server):
    _private, rsa_public = generate_key_pair("rsa")
    with pytest.raises(ConfigurationError) as caught:
        connect(server, host_key=rsa_public).connect()
    assert "offered a ssh-ed25519 host key" in caught.value.message
    assert openssh_fingerprint(server.host_key_line) in caught.value.message


def test_known_hosts_line_is_accepted(server):
    line = f"[127.0.0.1]:{server.port} {server.host_key_line}"
    with connect(server, host_key=line) as sftp:
        assert sftp.list_files(".") == []


def test_host_key_is_required_and_must_parse(server):
    with pytest.raises(ConfigurationError, match="host key is not pinned"):
        connect(server, host_key=None)
    with pytest.raises(ConfigurationError, match="could not be read"):
        connect(server, host_key="ssh-ed25519 bm90IGEga2V5")
    with pytest.raises(ConfigurationError, match="is not valid"):
        connect(server, host_key="garbage")


def test_wrong_key_is_an_authentication_failure(server):
    other_private, _public = generate_key_pair("ed25519")
    with pytest.raises(ConfigurationError) as caught:
        connect(server, private_key=other_private).connect()
    assert caught.value.message == (
        f"The SFTP server 127.0.0.1:{server.port} refused the login of user "
        f"{server.username!r}: check the password or key."
    )
    with pytest.raises(ConfigurationError, match="refused the login"):
        connect(server, private_key=None, password="secret-pw-123").connect()


def test_private_key_problems(server):
    with pytest.raises(ConfigurationError, match="could not be read"):
        connect(server, private_key="-----BEGIN OPENSSH PRIVATE KEY-----\nnope\n")
    with pytest.raises(ConfigurationError, match="no password and no key"):
        connect(server, private_key=None)


def test_connection_refused_is_transient():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _private, public = generate_key_pair("ed25519")
    transport = SftpTransport("127.0.0.1", port, "me", password="pw-1234", host_key=public)
    with pytest.raises(TransientError) as caught:
        transport.connect()
    assert caught.value.message == (
        f"Could not open an SFTP session with 127.0.0.1:{port} (connection refused)."
    )


def test_silent_server_is_transient():
    # accepts TCP connections but never speaks SSH
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    _private, public = generate_key_pair("ed25519")
    try:
        transport = SftpTransport(
            "127.0.0.1", port, "me", password="pw-1234", host_key=public, timeout=0.5
        )
        with pytest.raises(
            TransientError, match=f"Could not open an SFTP session with 127.0.0.1:{port}"
        ):
            transport.connect()
    finally:
        listener.close()


def test_rsa_keys_in_pem_format(tmp_path):
    with SftpServer(tmp_path, host_key_type="rsa", client_key_type="rsa") as rsa_server:
        assert rsa_server.host_key_line.startswith("ssh-rsa ")
        assert rsa_server.client_private_key.startswith("-----BEGIN RSA PRIVATE KEY-----")
        (tmp_path / "hello.txt").write_bytes(b"hi")
        with connect(rsa_server) as sftp:
            assert sftp.read("hello.txt") == b"hi"


def test_not_connected_is_a_programming_error(server):
    with pytest.raises(RuntimeError, match="not connected"):
        connect(server).read("x")


def test_file_fingerprint():
    assert file_fingerprint("shp_1.csv", b"abc") == {
        "name": "shp_1.csv",
        "size": 3,
        "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    }
