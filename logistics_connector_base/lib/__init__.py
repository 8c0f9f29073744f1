"""Plain-Python helpers of the Logistics Connector (no Odoo import, no database).

Error classification, retry timing, secret masking, canonical document schemas, webhook
signatures and the REST/SOAP/SFTP transports shared by every partner addon.
"""
