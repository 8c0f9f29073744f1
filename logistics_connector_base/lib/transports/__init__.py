"""Transports shared by every partner addon: REST (requests), SOAP (zeep), SFTP (paramiko).

Import the module you need (``from .transports.rest import RestTransport``); importing this
package does not load zeep or paramiko.
"""
