"""How the pipeline reaches a partner: REST and SFTP transports, SFTP polling, the connection
test."""

import hashlib
import logging
import posixpath
import threading
import time

from odoo import models
from odoo.tools import config as odoo_config

from ..lib.destinations import check_destination
from ..lib.errors import ConfigurationError, DocumentValidationError, LogisticsError
from ..lib.transports.rest import RestTransport
from ..lib.transports.sftp import SftpTransport, file_fingerprint
from .db_tools import autonomous_cursor

_logger = logging.getLogger(__name__)
# Per worker thread: a requests session is not meant to be shared between threads.
_thread_transports = threading.local()


class LogisticsBackend(models.Model):
    """Transports of a partner, built from its endpoint for the current environment."""

    _inherit = "logistics.backend"

    def _rest_transport(self):
        """The partner's REST transport, kept per worker thread while the partner's
        configuration is unchanged: its HTTP connections and OAuth2 token are reused."""
        self.ensure_one()
        endpoint = self._get_endpoint()
        settings = (
            self.api_version,
            self._timeouts(),
            tuple(sorted(endpoint.items())),
        )
        key = (self.env.cr.dbname, self.id, hashlib.sha256(repr(settings).encode()).digest())
        cache = _thread_transports.__dict__.setdefault("rest", {})
        transport = cache.get(key)
        if transport is None:
            # Drop this partner's stale transports (older configuration) before adding.
            for stale in [k for k in cache if k[:2] == key[:2]]:
                cache.pop(stale).close()
            transport = cache[key] = self._new_rest_transport(endpoint)
        return transport

    def _check_destination(self, target, what):
        """Refuse sending this partner's data where it must not go (lib/destinations.py)."""
        section = odoo_config.misc.get("logistics_connector", {})
        allowed = str(section.get("allow_internal_endpoints", "")).lower() in ("1", "true", "yes")
        check_destination(
            target,
            production=self.environment == "production",
            allow_internal=allowed,
            what=self.env._("%(what)s of %(name)s", what=what, name=self.name),
        )

    def _new_rest_transport(self, endpoint):
        self._check_destination(endpoint["base_url"], self.env._("base URL"))
        if endpoint["auth_kind"] == "oauth2" and endpoint.get("token_url"):
            self._check_destination(endpoint["token_url"], self.env._("OAuth2 token URL"))
        kind = endpoint["auth_kind"]
        auth = {"kind": kind}
        if kind == "basic":
            auth.update(username=endpoint.get("username"), password=endpoint.get("password"))
        elif kind == "bearer":
            auth.update(token=endpoint.get("token"))
        elif kind == "api_key":
            auth.update(header=endpoint.get("api_key_header"), value=endpoint.get("api_key"))
        elif kind == "oauth2":
            auth.update(
                token_url=endpoint.get("token_url"),
                client_id=endpoint.get("client_id"),
                client_secret=endpoint.get("client_secret"),
                scope=endpoint.get("scope"),
            )
        headers = {"X-API-Version": self.api_version} if self.api_version else None
        return RestTransport(
            endpoint["base_url"],
            auth=auth,
            timeout=self._timeouts(),
            default_headers=headers,
            secrets=self._secret_values(),
            cache_scope=(self.env.cr.dbname, self.id),
        )

    def _timeouts(self):
        """(connect, read) seconds; a synchronous exchange (context ``logistics_deadline``)
        caps both with its short deadline."""
        connect, read = self.connect_timeout or 5.0, self.read_timeout or 30.0
        deadline = self.env.context.get("logistics_deadline")
        if deadline:
            connect, read = min(connect, deadline), min(read, deadline)
        return (connect, read)

    def _sftp_transport(self):
        self.ensure_one()
        endpoint = self._get_endpoint()
        self._check_destination(endpoint.get("sftp_host") or "", self.env._("SFTP host"))
        if not endpoint.get("sftp_host_key"):
            raise ConfigurationError(
                self.env._(
                    "Partner %(name)s has no pinned SFTP host key: paste the server's public "
                    "host key line (ssh-ed25519 AAAA...) in its endpoint.",
                    name=self.name,
                )
            )
        return SftpTransport(
            endpoint["sftp_host"],
            int(endpoint.get("sftp_port") or 22),
            endpoint.get("sftp_username"),
            password=endpoint.get("sftp_password"),
            private_key=endpoint.get("sftp_private_key"),
            host_key=endpoint["sftp_host_key"],
            timeout=self.connect_timeout or 15,
        )

    def _sftp_poll(self, flow="file", limit=None):
        """Fetch the partner's new files from its inbound folder.

        Each file becomes an inbound message, stored raw and committed in a transaction of its
        own, and only then is the file moved to the archive folder: a crash in between leaves
        the file in place, and the next poll finds its message (the idempotency key - name,
        size and SHA-256 - is the partner's ledger of processed files, whichever flow polls)
        and just archives it. A new file under an old name has another hash: it is new.

        The folder is listed twice, ``sftp_settle_seconds`` apart: a file whose size or time
        changed in between is still being written and waits for the next poll. Files over
        ``sftp_max_file_kb`` wait too, with an exception. One bad file (unreadable, a name
        that is not UTF-8, a move that fails) gets an exception and never blocks the others.
        Only one poll of a partner runs at a time. Returns counts."""
        self.ensure_one()
        counts = {
            "received": 0,
            "already_received": 0,
            "refused": 0,
            "waiting": 0,
            "too_large": 0,
            "failed": 0,
        }
        self.env.cr.execute(
            "SELECT pg_try_advisory_lock(hashtext('logistics_sftp_poll'), %s)", (self.id,)
        )
        if not self.env.cr.fetchone()[0]:
            return counts  # another worker polls this partner right now
        try:
            self._sftp_poll_locked(flow, limit, counts)
        finally:
            self.env.cr.execute(
                "SELECT pg_advisory_unlock(hashtext('logistics_sftp_poll'), %s)", (self.id,)
            )
        return counts

    def _sftp_poll_locked(self, flow, limit, counts):
        endpoint = self._get_endpoint()
        folders = {
            "inbound": endpoint.get("sftp_inbound_folder") or "outbound",
            "archive": endpoint.get("sftp_archive_folder") or "archive",
            "error": endpoint.get("sftp_error_folder") or "error",
        }
        max_bytes = max(self.sftp_max_file_kb or 0, 0) * 1024
        with self._sftp_transport() as sftp:
            sftp.ensure_folder(folders["archive"])
            first = {
                name: (size, mtime) for name, size, mtime in sftp.list_files(folders["inbound"])
            }
            if self.sftp_settle_seconds > 0:
                time.sleep(self.sftp_settle_seconds)
            for name, size, mtime in sftp.list_files(folders["inbound"])[:limit]:
                if first.get(name) != (size, mtime):
                    counts["waiting"] += 1  # still being written: the next poll takes it
                    continue
                try:
                    outcome = self._sftp_take_file(sftp, folders, flow, name, size, max_bytes)
                except Exception as error:  # one bad file never stops the others
                    _logger.warning("SFTP file %r of %s failed: %s", name, self.name, error)
                    self._sftp_file_problem(name, folders, error)
                    outcome = "failed"
                counts[outcome] += 1

    def _sftp_take_file(self, sftp, folders, flow, name, size, max_bytes):
        """Store one file and archive it; returns what happened to it."""
        path = posixpath.join(
            folders["inbound"].encode() if isinstance(name, bytes) else folders["inbound"], name
        )
        if isinstance(name, bytes):
            # Not UTF-8: it cannot be named in Odoo or in a reply. Set aside, with a work item.
            sftp.ensure_folder(folders["error"])
            sftp.move(path, folders["error"])
            self._sftp_file_problem(
                name,
                folders,
                ConfigurationError(
                    self.env._(
                        "Its name is not valid UTF-8 text: it was moved to the error folder."
                    )
                ),
                moved=True,
            )
            return "refused"
        if max_bytes and size > max_bytes:
            self._sftp_file_problem(
                name,
                folders,
                ConfigurationError(
                    self.env._(
                        "It is %(size)s bytes, more than the %(limit)s accepted for this partner: "
                        "it stays on the server. Raise the partner's file size limit to take it.",
                        size=size,
                        limit=max_bytes,
                    )
                ),
            )
            return "too_large"
        data = sftp.read(path)
        if not data:
            # Nothing to store: the work item is committed first, then the file is set aside
            # where the partner can see it was refused.
            sftp.ensure_folder(folders["error"])
            self._sftp_file_problem(
                name,
                folders,
                DocumentValidationError(self.env._("The file was empty.")),
                moved=True,
            )
            sftp.move(path, folders["error"])
            return "refused"
        fingerprint = file_fingerprint(name, data)
        file_key = f"{name}:{fingerprint['size']}:{fingerprint['sha256']}"
        with autonomous_cursor(self.env) as cr:
            env = self.env(cr=cr)
            backend = self.with_env(env)
            messages = env["logistics.message"].sudo()
            # The ledger is the partner's, not a flow's: a file is stored once per partner.
            created = not messages.search_count(
                [
                    ("backend_id", "=", self.id),
                    ("direction", "=", "inbound"),
                    ("idempotency_key", "=", file_key),
                ],
                limit=1,
            )
            if created:
                _message, created = messages._create_inbound(
                    backend,
                    backend._get_adapter()._file_flow(backend, name, data, flow),
                    data,
                    headers={"filename": name, "size": fingerprint["size"]},
                    event_id=file_key,
                    filename=name,
                )
        sftp.move(path, folders["archive"])
        return "received" if created else "already_received"

    def _sftp_file_problem(self, name, folders, error, moved=False):
        """A work item, committed at once, for a file that could not be taken."""
        shown = name if isinstance(name, str) else name.decode("utf-8", "replace")
        text = getattr(error, "message", None) or f"{type(error).__name__}: {error}"
        with autonomous_cursor(self.env) as cr:
            backend = self.with_env(self.env(cr=cr))
            backend.env["logistics.exception"].raise_exception(
                "validation_error" if moved else "configuration_error",
                self.env._(
                    "File %(file)s from %(partner)s was not taken", file=shown, partner=self.name
                ),
                self.env._(
                    "%(file)s: %(error)s\nFolder: %(folder)s on the partner's server. The "
                    "other files are taken as usual.",
                    file=shown,
                    error=self._masked_text(text),
                    folder=folders["error"] if moved else folders["inbound"],
                ),
                backend=backend,
                dedup_key=f"sftp_file:{self.id}:{shown}",
            )

    def action_test_connection(self):
        self.ensure_one()
        self.check_access("write")
        try:
            detail = self._get_adapter()._test_connection(self)
        except LogisticsError as error:
            return self._notify(
                self.env._("Connection to %(name)s failed", name=self.name), error.message, "danger"
            )
        return self._notify(
            self.env._("Connection to %(name)s works", name=self.name), detail, "success"
        )
