"""SFTP transport over paramiko, with a pinned server host key and atomic uploads."""

import base64
import binascii
import errno
import hashlib
import io
import logging
import posixpath
import socket
import stat
from datetime import datetime, timezone

import paramiko
from paramiko.sftp import CMD_CLOSE, CMD_OPENDIR, CMD_READDIR

from ..errors import BusinessError, ConfigurationError, TransientError
from .base import Transport

# Names a partner (or we) may be writing right now: never pick them up.
PARTIAL_SUFFIXES = (".part", ".filepart", ".tmp")
# Our SSH clients log here, not to "paramiko.transport": paramiko's transport thread logs a
# connection it loses (e.g. a server that never sends its banner, cut by our timeout) as an
# ERROR traceback, while connect() already raises it as a classified error with its reason.
PARAMIKO_LOG_CHANNEL = "odoo.addons.logistics_connector_base.sftp.paramiko"
logging.getLogger(PARAMIKO_LOG_CHANNEL).setLevel(logging.CRITICAL)
_KEY_CLASSES = (paramiko.Ed25519Key, paramiko.RSAKey, paramiko.ECDSAKey)


def key_fingerprint(key):
    """OpenSSH-style ``SHA256:<base64>`` fingerprint of a paramiko key."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def parse_host_key(line):
    """paramiko key from an OpenSSH public key line (``ssh-ed25519 AAAA... [comment]``).

    A known_hosts line (``host ssh-ed25519 AAAA...``) is accepted too.
    """
    fields = (line or "").split()
    if len(fields) >= 3 and not fields[0].startswith(("ssh-", "ecdsa-")):
        fields = fields[1:]  # known_hosts: drop the host name
    if len(fields) < 2:
        raise ConfigurationError(
            "The pinned SFTP host key is not valid: paste the server's public key line, "
            "e.g. 'ssh-ed25519 AAAA...'."
        )
    key_type, encoded = fields[0], fields[1]
    try:
        blob = base64.b64decode(encoded, validate=True)
        return paramiko.PKey.from_type_string(key_type, blob)
    except (binascii.Error, ValueError, paramiko.SSHException, TypeError):
        raise ConfigurationError(
            f"The pinned SFTP host key ({key_type}) could not be read: paste the server's "
            "public key line, e.g. 'ssh-ed25519 AAAA...'."
        ) from None


def load_private_key(text, passphrase=None):
    """paramiko key from private key text (PEM or OpenSSH format; Ed25519, RSA or ECDSA)."""
    for key_class in _KEY_CLASSES:
        try:
            return key_class.from_private_key(io.StringIO(text), password=passphrase)
        except paramiko.PasswordRequiredException:
            raise ConfigurationError(
                "The SFTP private key is protected by a passphrase: configure it."
            ) from None
        except (paramiko.SSHException, ValueError, TypeError, IndexError):
            continue
    raise ConfigurationError(
        "The SFTP private key could not be read: expected an OpenSSH or PEM private key "
        "(Ed25519, RSA or ECDSA)."
    )


def file_fingerprint(name, data):
    """Ledger entry of a processed file: name, size and SHA-256 of its content."""
    return {"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


class SftpTransport(Transport):
    """One SFTP session with a partner; use it as a context manager.

    :param host_key: the server's public host key line, REQUIRED: an unknown or different
        server key is refused, never added
    :param private_key: private key text (OpenSSH or PEM) for key authentication
    :param timeout: seconds for connecting, authenticating and each file operation
    """

    def __init__(
        self,
        host,
        port=22,
        username=None,
        *,
        password=None,
        private_key=None,
        host_key=None,
        timeout=15,
        passphrase=None,
    ):
        if not host:
            raise ConfigurationError("The partner's SFTP host is not configured.")
        if not username:
            raise ConfigurationError("The partner's SFTP user name is not configured.")
        if not host_key:
            raise ConfigurationError(
                "The partner's SFTP host key is not pinned: paste the server's public host "
                "key line (ssh-ed25519 AAAA...)."
            )
        if not password and not private_key:
            raise ConfigurationError("The partner's SFTP endpoint has no password and no key.")
        self.host = host
        self.port = int(port or 22)
        self.username = username
        self.password = password or None
        self.timeout = float(timeout)
        self.pinned_key = parse_host_key(host_key)
        self.pkey = load_private_key(private_key, passphrase or None) if private_key else None
        self._client = None
        self._sftp = None

    @property
    def where(self):
        return f"{self.host}:{self.port}"

    # -- connection ---------------------------------------------------------------------------
    def open(self):
        return self.connect()

    def secret_values(self):
        return [v for v in (self.password,) if v]

    def connect(self):
        client = paramiko.SSHClient()
        client.set_log_channel(PARAMIKO_LOG_CHANNEL)
        name = self.host if self.port == 22 else f"[{self.host}]:{self.port}"
        # only the pinned key: no ~/.ssh/known_hosts, and an unknown key is refused
        client.get_host_keys().add(name, self.pinned_key.get_name(), self.pinned_key)
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        try:
            client.connect(
                self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                pkey=self.pkey,
                timeout=self.timeout,
                banner_timeout=self.timeout,
                auth_timeout=self.timeout,
                channel_timeout=self.timeout,
                allow_agent=False,
                look_for_keys=False,
            )
            sftp = client.open_sftp()
            sftp.get_channel().settimeout(self.timeout)
        except paramiko.BadHostKeyException as exc:
            client.close()
            offered = exc.key
            raise ConfigurationError(
                f"The SFTP server {self.where} offered a {offered.get_name()} host key with "
                f"fingerprint {key_fingerprint(offered)}, which is not the pinned key "
                f"({self.pinned_key.get_name()} {key_fingerprint(self.pinned_key)}). If the "
                "partner really changed its key, confirm the new one with them and pin it.",
                details={
                    "offered_key_type": offered.get_name(),
                    "offered_fingerprint": key_fingerprint(offered),
                },
            ) from None
        except paramiko.AuthenticationException as exc:
            client.close()
            if "timeout" in str(exc).lower():
                raise TransientError(
                    f"The SFTP server {self.where} did not complete the login in time."
                ) from None
            raise ConfigurationError(
                f"The SFTP server {self.where} refused the login of user {self.username!r}: "
                "check the password or key."
            ) from None
        except (OSError, EOFError, paramiko.SSHException) as exc:
            client.close()
            raise TransientError(
                f"Could not open an SFTP session with {self.where} ({self._reason(exc)})."
            ) from None
        self._client, self._sftp = client, sftp
        return self

    def close(self):
        if self._sftp is not None:
            self._sftp.close()
        if self._client is not None:
            self._client.close()
        self._client = self._sftp = None

    @staticmethod
    def _reason(exc):
        if isinstance(exc, (socket.timeout, TimeoutError)):
            return "timed out"
        if isinstance(exc, ConnectionRefusedError) or (
            isinstance(exc, paramiko.ssh_exception.NoValidConnectionsError)
        ):
            return "connection refused"
        if isinstance(exc, socket.gaierror):
            return "unknown host name"
        return f"{type(exc).__name__}: {str(exc)[:120]}" if str(exc) else type(exc).__name__

    @property
    def sftp(self):
        if self._sftp is None:
            raise RuntimeError("SftpTransport is not connected: use it as a context manager")
        return self._sftp

    def _error(self, exc, action, path):
        """Classify an error of a file operation."""
        if isinstance(exc, FileNotFoundError) or getattr(exc, "errno", None) == errno.ENOENT:
            return BusinessError(f"Cannot {action} {path!r} on {self.where}: it does not exist.")
        if isinstance(exc, PermissionError) or getattr(exc, "errno", None) == errno.EACCES:
            return ConfigurationError(
                f"Cannot {action} {path!r} on {self.where}: permission denied for user "
                f"{self.username!r}."
            )
        return TransientError(f"Cannot {action} {path!r} on {self.where} ({self._reason(exc)}).")

    # -- file operations ----------------------------------------------------------------------
    def list_files(self, folder):
        """Regular files of ``folder`` as (name, size, mtime) tuples, oldest first.

        Hidden names and partial uploads (``.part``, ``.filepart``, ``.tmp``) are skipped:
        they may still be being written. A name that is not UTF-8 comes as bytes (paramiko's
        own listing fails on the whole folder for one such name); bytes paths work for
        ``move``.
        """
        try:
            entries = self._listdir_raw(folder)
        except FileNotFoundError:
            raise ConfigurationError(
                f"The folder {folder!r} does not exist on the SFTP server {self.where}."
            ) from None
        except (OSError, EOFError, paramiko.SSHException) as exc:
            raise self._error(exc, "list", folder) from None
        files = []
        for raw_name, attributes in entries:
            try:
                name = raw_name.decode("utf-8")
            except UnicodeDecodeError:
                name = raw_name
            text = name if isinstance(name, str) else name.decode("utf-8", "replace")
            if (
                attributes.st_mode is not None
                and stat.S_ISREG(attributes.st_mode)
                and not text.startswith(".")
                and not text.endswith(PARTIAL_SUFFIXES)
            ):
                files.append((name, attributes.st_size or 0, attributes.st_mtime or 0))
        return sorted(files, key=lambda item: (item[2], str(item[0])))

    def _listdir_raw(self, folder):
        """(name bytes, SFTPAttributes) of a folder's entries, names undecoded."""
        sftp = self.sftp
        _kind, message = sftp._request(CMD_OPENDIR, folder)
        handle = message.get_binary()
        entries = []
        try:
            while True:
                try:
                    _kind, message = sftp._request(CMD_READDIR, handle)
                except EOFError:
                    break  # SSH_FX_EOF: the folder has no more entries
                for _index in range(message.get_int()):
                    raw_name = message.get_string()
                    long_name = message.get_string()
                    entries.append(
                        (raw_name, paramiko.SFTPAttributes._from_msg(message, raw_name, long_name))
                    )
        finally:
            sftp._request(CMD_CLOSE, handle)
        return entries

    # not an Odoo model: pylint-odoo mistakes read() for an ORM override
    def read(self, path):  # pylint: disable=method-required-super
        """Content of the remote file ``path`` (bytes)."""
        try:
            with self.sftp.open(path, "rb") as handle:
                handle.prefetch()
                return handle.read()
        except (OSError, EOFError, paramiko.SSHException) as exc:
            raise self._error(exc, "read", path) from None

    def exists(self, path):
        try:
            self.sftp.stat(path)
        except FileNotFoundError:
            return False
        except (OSError, EOFError, paramiko.SSHException) as exc:
            raise self._error(exc, "inspect", path) from None
        return True

    def upload_atomic(self, folder, name, data):
        """Write ``data`` as ``folder/name`` so the partner never sees a partial file.

        The content goes to ``.<name>.part`` first and is renamed when complete (an existing
        file of that name is replaced: a retried upload carries the same content).
        Returns the final path.
        """
        if not name or "/" in name or name in (".", ".."):
            raise ConfigurationError(f"Invalid file name for an upload: {name!r}.")
        final = posixpath.join(folder, name)
        partial = posixpath.join(folder, f".{name}.part")
        sftp = self.sftp
        try:
            with sftp.open(partial, "wb") as handle:
                handle.set_pipelined(True)
                handle.write(data)
            size = sftp.stat(partial).st_size
            if size != len(data):
                raise TransientError(
                    f"The upload of {final!r} to {self.where} was incomplete "
                    f"({size} of {len(data)} bytes)."
                )
            self._rename(partial, final)
        except (OSError, EOFError, paramiko.SSHException) as exc:
            raise self._error(exc, "upload", final) from None
        return final

    def _rename(self, src, dst):
        try:
            # atomic and replaces dst (OpenSSH posix-rename extension)
            self.sftp.posix_rename(src, dst)
        except OSError as exc:
            if "unsupported" not in str(exc).lower() and "not supported" not in str(exc).lower():
                raise
            # plain SFTP v3 rename refuses to replace: remove the old file first
            if self.exists(dst):
                self.sftp.remove(dst)
            self.sftp.rename(src, dst)

    def move(self, src, dst_folder):
        """Move ``src`` into ``dst_folder`` (archive, error), keeping its name, or adding a
        UTC timestamp suffix (then a counter) when that name is taken. Returns the new path.
        ``src`` may be bytes (a name that is not UTF-8): the path is then bytes too.
        """
        if isinstance(src, bytes) and isinstance(dst_folder, str):
            dst_folder = dst_folder.encode()
        name = posixpath.basename(src)
        target = posixpath.join(dst_folder, name)
        as_path = (lambda text: text.encode()) if isinstance(src, bytes) else (lambda text: text)
        try:
            if self.exists(target):
                stem, dot, ext = name.rpartition(as_path("."))
                if not dot or not stem:
                    stem, ext = name, as_path("")
                stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
                counter = 0
                while self.exists(target):
                    suffix = as_path(stamp if not counter else f"{stamp}-{counter}")
                    dot = as_path(".")
                    new_name = stem + dot + suffix + (dot + ext if ext else as_path(""))
                    target = posixpath.join(dst_folder, new_name)
                    counter += 1
            # plain rename: never replaces an existing file
            self.sftp.rename(src, target)
        except (OSError, EOFError, paramiko.SSHException) as exc:
            raise self._error(exc, "move", src) from None
        return target

    def remove(self, path):
        try:
            self.sftp.remove(path)
        except (OSError, EOFError, paramiko.SSHException) as exc:
            raise self._error(exc, "remove", path) from None

    def ensure_folder(self, path):
        """Create ``path`` and its missing parents (like ``mkdir -p``)."""
        current = "/" if path.startswith("/") else ""
        try:
            for part in [p for p in path.split("/") if p]:
                current = posixpath.join(current, part) if current else part
                try:
                    attrs = self.sftp.stat(current)
                except FileNotFoundError:
                    self.sftp.mkdir(current)
                    continue
                if not stat.S_ISDIR(attrs.st_mode or 0):
                    raise ConfigurationError(
                        f"{current!r} on {self.where} is a file, not a folder."
                    )
        except (OSError, EOFError, paramiko.SSHException) as exc:
            raise self._error(exc, "create the folder", path) from None
        return path
