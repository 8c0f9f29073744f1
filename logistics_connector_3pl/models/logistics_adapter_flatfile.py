import posixpath
import re

from odoo import api, models
from odoo.addons.logistics_connector_base.lib.errors import (
    BusinessError,
    ConfigurationError,
    DocumentValidationError,
)

from ..lib import flatfile
from .logistics_file_layout import OUTBOUND


class LogisticsAdapterFlatfile(models.AbstractModel):
    """A legacy 3PL exchanging CSV files over SFTP: order files are uploaded atomically (a
    temporary name renamed when complete) to its inbound folder; its shipment, inventory,
    receipt and return files are fetched by the base's SFTP intake (each stored once, archived,
    a file still being written left for the next poll) and read with the partner's layouts."""

    _name = "logistics.adapter.flatfile_sftp"
    _inherit = "logistics.adapter"
    _description = "Flat files (CSV) over SFTP"

    @api.model
    def _sends_flow(self, flow):
        """The transfers this adapter sends when they become ready."""
        return flow in OUTBOUND

    @api.model
    def _layout(self, backend, document):
        layout = backend.sudo().file_layout_ids.filtered(lambda layout: layout.document == document)
        if not layout:
            raise ConfigurationError(
                self.env._(
                    "%(partner)s has no file layout for %(document)s: add it on the partner's "
                    "File Layouts tab.",
                    partner=backend.name,
                    document=document,
                )
            )
        return layout

    @api.model
    def _file_name(self, message, layout):
        reference = re.sub(r"[^A-Za-z0-9_.-]+", "-", message.canonical_payload["reference"])
        # The message's birth, not now: a retry writes the same name (and finds it there).
        stamp = message.create_date.strftime("%Y%m%d%H%M%S")
        return layout.file_pattern.format(reference=reference, timestamp=stamp)

    @api.model
    def _send(self, message, resend=False):
        document = message.canonical_payload or {}
        if message.flow not in OUTBOUND or (document.get("action") or "create") != "create":
            raise BusinessError(
                self.env._(
                    "%(partner)s takes new orders, receipt notices and returns by file only: "
                    "tell the warehouse about changes and cancellations yourself.",
                    partner=message.backend_id.name,
                )
            )
        backend = message.backend_id
        layout = self._layout(backend, OUTBOUND[message.flow])
        name = self._file_name(message, layout)
        folder = backend._get_endpoint().get("sftp_outbound_folder") or "inbound"
        data = flatfile.render(document, layout._spec()).encode()
        with backend._sftp_transport() as sftp, self._exchange(message, sftp):
            if not (resend and sftp.exists(posixpath.join(folder, name))):
                sftp.upload_atomic(folder, name, data)
        message.write({"external_id": name})
        return {"file": name, "bytes": len(data)}

    @api.model
    def _file_flow(self, backend, name, data, default_flow):
        layout = backend.sudo().file_layout_ids.filtered(lambda layout: layout._matches(name))[:1]
        return layout.document if layout else default_flow

    @api.model
    def _decode(self, message):
        backend = message.backend_id
        name = message.external_id or ""
        layout = backend.sudo().file_layout_ids.filtered(lambda layout: layout._matches(name))[:1]
        if not layout:
            raise ConfigurationError(
                self.env._(
                    "No file layout of %(partner)s matches the file %(file)s: add one (or "
                    "correct a file pattern) on the partner's File Layouts tab, then retry.",
                    partner=backend.name,
                    file=name,
                )
            )
        try:
            text = message._raw_payload().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise DocumentValidationError(
                self.env._("The file %(file)s is not UTF-8 text.", file=name)
            ) from None
        stamp = message.create_date.replace(microsecond=0).isoformat() + "Z"
        return flatfile.parse(text, layout._spec(), layout.document, stamp)

    @api.model
    def _test_connection(self, backend):
        with backend._sftp_transport() as sftp:
            folder = backend._get_endpoint().get("sftp_inbound_folder") or "outbound"
            files = sftp.list_files(folder)
        return self.env._(
            "Connected over SFTP; %(count)s file(s) wait in %(folder)s.",
            count=len(files),
            folder=folder,
        )
