"""Where Odoo may send a partner's data: production endpoints use TLS, and addresses inside
the server's own networks (loopback, private, link-local - cloud metadata services live
there) are refused unless the server configuration allows them, so a partner record cannot
be turned into a probe of the internal network."""

import ipaddress
import socket
from urllib.parse import urlsplit

from .errors import ConfigurationError


def _addresses(host):
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []  # unknown today: the transport reports it when it tries
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


def is_internal(address):
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )


def check_destination(target, *, production, allow_internal, what="endpoint"):
    """Refuse a URL (or a bare host name, for SFTP) Odoo must not send data to.

    :param production: the partner works in its production environment: URLs need https
    :param allow_internal: the server configuration allows internal addresses
    :raises ConfigurationError: in plain words, saying how to fix it
    """
    parts = urlsplit(target if "://" in target else f"//{target}")
    if production and "://" in target and parts.scheme != "https":
        raise ConfigurationError(
            f"The production {what} {target} does not use https: partner data travels "
            "encrypted in production. Use its https:// address."
        )
    host = parts.hostname or ""
    if allow_internal or not host:
        return
    internal = [str(address) for address in _addresses(host) if is_internal(address)]
    if internal:
        raise ConfigurationError(
            f"The {what} {host} is an address inside the server's own networks "
            f"({', '.join(sorted(set(internal)))}): refused. If this partner really is on your "
            "network, allow it in the server configuration: [logistics_connector] "
            "allow_internal_endpoints = True."
        )
