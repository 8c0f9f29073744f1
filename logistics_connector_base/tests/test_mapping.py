import csv
import io

from .common import LogisticsCase


class TestMappingCsv(LogisticsCase):
    def test_import_and_export_as_csv(self):
        rows = [
            ["backend_id", "mapping_type", "odoo_value", "partner_value"],
            ["Sandbox 3PL", "Unit of Measure", "Units", "EA"],
            ["Sandbox 3PL", "Carrier Service", "Standard delivery", "GROUND"],
        ]
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rows)
        importer = self.env["base_import.import"].create(
            {
                "res_model": "logistics.mapping",
                "file": buffer.getvalue().encode(),
                "file_type": "text/csv",
                "file_name": "mappings.csv",
            }
        )
        result = importer.execute_import(
            rows[0], rows[0], {"has_headers": True, "quoting": '"', "separator": ","}
        )
        self.assertFalse(result["messages"], result["messages"])
        self.assertEqual(self.backend._map("uom", "Units"), "EA")
        self.assertEqual(self.backend._unmap("carrier_service", "GROUND"), "Standard delivery")

        mappings = self.env["logistics.mapping"].search([("backend_id", "=", self.backend.id)])
        exported = mappings.export_data(["mapping_type", "odoo_value", "partner_value"])["datas"]
        self.assertIn(["Unit of Measure", "Units", "EA"], exported)

    def test_a_partner_value_is_mapped_once_per_type(self):
        from psycopg2.errors import UniqueViolation

        from odoo.tools import mute_logger

        values = {
            "backend_id": self.backend.id,
            "mapping_type": "status_code",
            "odoo_value": "done",
            "partner_value": "SHIPPED",
        }
        self.env["logistics.mapping"].create(values)
        with mute_logger("odoo.sql_db"), self.assertRaises(UniqueViolation):
            self.env["logistics.mapping"].create({**values, "odoo_value": "cancel"})

    def test_missing_mapping_error_names_what_to_add(self):
        with self.assertRaises(Exception) as caught:
            self.backend._unmap("reason_code", "DMG")
        self.assertIn("No Reason Code mapping for the partner value 'DMG'", str(caught.exception))
        self.assertIn("Logistics > Configuration > Mappings", str(caught.exception))
        self.assertEqual(self.backend._unmap("reason_code", "DMG", default="other"), "other")
