import os
import tempfile
import threading
import time
from pathlib import Path

from tests.sandboxes.sftp_server import SftpServer

from ..lib.errors import ConfigurationError
from .common import LogisticsCase


class TestSftpPoll(LogisticsCase):
    """Inbound files from a real OpenSSH SFTP server on loopback."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server_root = Path(tempfile.mkdtemp(prefix="lc-sftp-poll-"))
        cls.server = SftpServer(cls.server_root)
        cls.server.start()
        cls.addClassCleanup(cls.server.stop)
        cls.backend.endpoint_ids.write(
            {
                "sftp_host": cls.server.host,
                "sftp_port": cls.server.port,
                "sftp_username": cls.server.username,
                "sftp_private_key": cls.server.client_private_key,
                "sftp_host_key": cls.server.host_key_line,
            }
        )
        cls.backend.sftp_settle_seconds = 0  # files here are written before the poll

    def setUp(self):
        super().setUp()
        # A folder tree of its own per test, relative to the SFTP login directory.
        self.root = Path(tempfile.mkdtemp(dir=self.server_root))
        (self.root / "outbound").mkdir()
        self.backend.endpoint_ids.write(
            {
                "sftp_inbound_folder": f"{self.root.name}/outbound",
                "sftp_archive_folder": f"{self.root.name}/archive",
                "sftp_error_folder": f"{self.root.name}/error",
            }
        )

    def taken(self, counts):
        return {key: counts[key] for key in ("received", "already_received", "refused")}

    def exceptions(self):
        return self.env["logistics.exception"].search([("backend_id", "=", self.backend.id)])

    def drop(self, name, content):
        (self.root / "outbound" / name).write_bytes(content)

    def inbound(self):
        return self.env["logistics.message"].search(
            [("backend_id", "=", self.backend.id), ("flow", "=", "file")], order="id"
        )

    def test_each_file_is_stored_raw_once_then_archived(self):
        self.drop("945_0001.edi", b"ISA*00*first file~")
        self.drop("945_0002.edi", b"ISA*00*second file~")
        counts = self.backend._sftp_poll()
        self.assertEqual(self.taken(counts), {"received": 2, "already_received": 0, "refused": 0})
        messages = self.inbound()
        self.assertEqual(messages.mapped("external_id"), ["945_0001.edi", "945_0002.edi"])
        self.assertEqual(messages[0]._raw_payload(), b"ISA*00*first file~")
        self.assertEqual(set(messages.mapped("state")), {"queued"})
        self.assertFalse(list((self.root / "outbound").iterdir()), "fetched files leave the folder")
        self.assertEqual(len(list((self.root / "archive").iterdir())), 2)

    def test_a_file_seen_again_after_a_crash_is_not_received_twice(self):
        self.drop("945_0003.edi", b"ISA*00*third~")
        self.backend._sftp_poll()
        # The worker died after storing the message but before archiving: the file is back.
        self.drop("945_0003.edi", b"ISA*00*third~")
        counts = self.backend._sftp_poll()
        self.assertEqual(self.taken(counts), {"received": 0, "already_received": 1, "refused": 0})
        self.assertEqual(len(self.inbound()), 1)
        self.assertFalse(list((self.root / "outbound").iterdir()))

    def test_new_content_under_an_old_name_is_a_new_file(self):
        self.drop("stock.csv", b"sku,qty\nA,1\n")
        self.backend._sftp_poll()
        self.drop("stock.csv", b"sku,qty\nA,2\n")
        self.assertEqual(self.backend._sftp_poll()["received"], 1)
        self.assertEqual(len(self.inbound()), 2)
        archived = sorted(p.name for p in (self.root / "archive").iterdir())
        self.assertEqual(len(archived), 2, "the second copy is archived under a new name")

    def test_an_unknown_host_key_is_refused(self):
        other = SftpServer(self.server_root)
        other.start()
        self.addCleanup(other.stop)
        self.backend.endpoint_ids.sftp_port = other.port
        self.drop("x.edi", b"x")
        with self.assertRaises(ConfigurationError) as caught:
            self.backend._sftp_poll()
        self.assertIn("SHA256:", caught.exception.message)
        self.assertFalse(self.inbound())

    def test_the_batch_cron_fetches_files_of_inbound_flows(self):
        self.env["logistics.backend.flow"].create(
            {"backend_id": self.backend.id, "flow": "file", "direction": "inbound", "mode": "batch"}
        )
        self.drop("inv.csv", b"sku,qty\nA,3\n")
        self.env["logistics.backend.flow"]._cron_run_batch_flows()
        self.assertEqual(self.inbound().mapped("external_id"), ["inv.csv"])

    def test_an_unreachable_server_opens_an_exception_and_loses_nothing(self):
        self.env["logistics.backend.flow"].create(
            {"backend_id": self.backend.id, "flow": "file", "direction": "inbound", "mode": "batch"}
        )
        self.drop("kept.csv", b"x")
        self.backend.endpoint_ids.sftp_port = 1  # nothing listens there
        self.env["logistics.backend.flow"]._cron_run_batch_flows()
        exception = self.env["logistics.exception"].search([("backend_id", "=", self.backend.id)])
        self.assertEqual(exception.exception_type, "partner_down")
        self.assertIn("Nothing was lost", exception.description)
        self.assertTrue((self.root / "outbound" / "kept.csv").exists())

    def test_an_empty_file_goes_to_the_error_folder_with_an_exception(self):
        self.drop("empty.edi", b"")
        counts = self.backend._sftp_poll()
        self.assertEqual(counts["refused"], 1)
        self.assertFalse(self.inbound())
        self.assertTrue((self.root / "error" / "empty.edi").exists())
        exception = self.env["logistics.exception"].search([("backend_id", "=", self.backend.id)])
        self.assertIn("empty.edi", exception.description)

    def test_a_file_is_stored_once_per_partner_whichever_flow_polls(self):
        self.drop("945_0009.edi", b"ISA*00*ninth~")
        self.backend._sftp_poll(flow="file")
        # The worker died between the commit and the move; another flow polls the folder.
        self.drop("945_0009.edi", b"ISA*00*ninth~")
        counts = self.backend._sftp_poll(flow="shipment")
        self.assertEqual(counts["already_received"], 1)
        messages = self.env["logistics.message"].search(
            [("backend_id", "=", self.backend.id), ("direction", "=", "inbound")]
        )
        self.assertEqual(len(messages), 1)

    def test_a_name_that_is_not_utf8_is_set_aside_and_the_others_are_taken(self):
        bad = os.path.join(os.fsencode(self.root / "outbound"), b"bad\xff.edi")
        with open(bad, "wb") as handle:
            handle.write(b"ISA*00*bad name~")
        self.drop("good.edi", b"ISA*00*good~")
        counts = self.backend._sftp_poll()
        self.assertEqual((counts["received"], counts["refused"]), (1, 1))
        self.assertEqual(self.inbound().mapped("external_id"), ["good.edi"])
        self.assertTrue(
            os.path.exists(os.path.join(os.fsencode(self.root / "error"), b"bad\xff.edi"))
        )
        self.assertIn("not valid UTF-8", self.exceptions().description)

    def test_a_file_over_the_size_limit_stays_with_an_exception(self):
        self.backend.sftp_max_file_kb = 1
        self.drop("huge.edi", b"x" * 2048)
        self.drop("small.edi", b"ISA*00*small~")
        counts = self.backend._sftp_poll()
        self.assertEqual((counts["received"], counts["too_large"]), (1, 1))
        self.assertTrue((self.root / "outbound" / "huge.edi").exists(), "nothing is lost")
        self.assertIn("more than the 1024 accepted", self.exceptions().description)

    def test_a_file_still_being_written_waits_for_the_next_poll(self):
        self.backend.sftp_settle_seconds = 1.0
        self.drop("growing.edi", b"ISA*00*first half")

        def keep_writing():
            time.sleep(0.3)
            with open(self.root / "outbound" / "growing.edi", "ab") as handle:
                handle.write(b" and the second half~")

        writer = threading.Thread(target=keep_writing)
        writer.start()
        counts = self.backend._sftp_poll()
        writer.join()
        self.assertEqual((counts["waiting"], counts["received"]), (1, 0))
        self.backend.sftp_settle_seconds = 0
        self.assertEqual(self.backend._sftp_poll()["received"], 1)
        self.assertEqual(self.inbound()._raw_payload(), b"ISA*00*first half and the second half~")
