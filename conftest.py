"""Repository root conftest: its presence puts the repository root on sys.path, so addon tests
can import the loopback partner sandboxes as `tests.sandboxes`."""

import os

from odoo.tools import config

# HTTP tests start Odoo's server in the test process; with queue_job among the server-wide
# modules its job runner would start too and run jobs behind the tests' back (committing).
# Tests run the jobs they create themselves.
os.environ["ODOO_QUEUE_JOB_CHANNELS"] = "root:0"

# Odoo 18 logs an import of its test framework outside test mode as an ERROR with a stack trace.
# pytest-odoo imports it right after reading Odoo's configuration, in which test mode is off:
# the plugin turns it on around each test module only, as on for the registry's loading it
# would run every installed module's tests. Import the framework first, in test mode.
_test_enable = config["test_enable"]
config["test_enable"] = True
try:
    import odoo.tests  # noqa: F401
finally:
    config["test_enable"] = _test_enable
