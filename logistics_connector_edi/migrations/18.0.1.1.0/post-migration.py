from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    """X12 partners made before the transaction set mapping existed get the standard lines
    (what const.DEFAULT_SET_MAPPINGS used to apply to everyone), so nothing they exchange
    stops being routed."""
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["logistics.backend"].with_context(active_test=False).search(
        [("adapter", "=", "x12_sftp")]
    )._x12_ensure_set_mappings()
