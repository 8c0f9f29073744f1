"""Where partner data may go: https in production, no internal addresses unless allowed."""

import pytest

from odoo.addons.logistics_connector_base.lib.destinations import check_destination
from odoo.addons.logistics_connector_base.lib.errors import ConfigurationError


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:8701/api",
        "https://localhost/api",
        "https://10.1.2.3/",
        "https://192.168.0.10/",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]:8443/",
        "https://0.0.0.0/",
        "localhost",
        "127.0.0.1",
    ],
)
def test_internal_addresses_are_refused_unless_allowed(target):
    with pytest.raises(ConfigurationError, match="inside the server's own networks"):
        check_destination(target, production=False, allow_internal=False)
    check_destination(target, production=False, allow_internal=True)


def test_public_addresses_pass():
    check_destination("https://93.184.215.14/api", production=True, allow_internal=False)
    check_destination("8.8.8.8", production=True, allow_internal=False)


def test_production_needs_https_even_where_internal_addresses_are_allowed():
    with pytest.raises(ConfigurationError, match="does not use https"):
        check_destination("http://127.0.0.1:8701", production=True, allow_internal=True)
    check_destination("http://127.0.0.1:8701", production=False, allow_internal=True)


def test_an_unknown_host_is_left_to_the_transport():
    check_destination("https://no-such-host.invalid/", production=True, allow_internal=False)
