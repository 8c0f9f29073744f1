"""What the EDI tests through SFTP share: a real OpenSSH server on loopback (one per class)
and the X12 trading partner sandbox working a fresh pair of folders for each test."""

import tempfile
from pathlib import Path

from odoo.addons.logistics_connector_base.tests.test_appliers_stock import StockAppliersCase
from tests.sandboxes.edi_partner import EdiPartner
from tests.sandboxes.sftp_server import SftpServer


class X12PartnerCase(StockAppliersCase):
    """An X12 partner backend served by the EDI partner sandbox through SFTP."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server_root = Path(tempfile.mkdtemp(prefix="lc-edi-"))
        cls.server = SftpServer(cls.server_root)
        cls.server.start()
        cls.addClassCleanup(cls.server.stop)
        cls.backend.write(
            {
                "kind": "edi",
                "adapter": "x12_sftp",
                "x12_our_id": "OURCOMPANY",
                "x12_partner_id": "PARTNER3PL",
                "sftp_settle_seconds": 0,
            }
        )
        cls.backend.endpoint_ids.write(
            {
                "sftp_host": cls.server.host,
                "sftp_port": cls.server.port,
                "sftp_username": cls.server.username,
                "sftp_private_key": cls.server.client_private_key,
                "sftp_host_key": cls.server.host_key_line,
            }
        )
        cls.env["logistics.mapping"].create(
            {
                "backend_id": cls.backend.id,
                "mapping_type": "uom",
                "odoo_value": cls.product.uom_id.name,
                "partner_value": "EA",
            }
        )

    def setUp(self):
        super().setUp()
        self.root = Path(tempfile.mkdtemp(dir=self.server_root))
        self.partner = EdiPartner(self.root)
        name = self.root.name
        self.backend.endpoint_ids.write(
            {
                "sftp_inbound_folder": f"{name}/from_partner",
                "sftp_outbound_folder": f"{name}/to_partner",
                "sftp_archive_folder": f"{name}/archive",
                "sftp_error_folder": f"{name}/error",
            }
        )

    # ---- helpers ---------------------------------------------------------------------------
    def files(self, folder):
        path = self.root / folder
        return sorted(p for p in path.glob("*.x12")) if path.exists() else []

    def interchanges(self, direction):
        return self.env["logistics.x12.interchange"].search(
            [("backend_id", "=", self.backend.id), ("direction", "=", direction)], order="id"
        )

    def poll_and_run(self):
        counts = self.backend._sftp_poll()
        self.run_jobs()
        return counts

    def inbound(self, flow):
        return self.env["logistics.message"].search(
            [
                ("backend_id", "=", self.backend.id),
                ("direction", "=", "inbound"),
                ("flow", "=", flow),
            ],
            order="id",
        )
