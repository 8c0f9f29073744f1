"""Repository root conftest: its presence puts the repository root on sys.path, so addon tests
can import the loopback partner sandboxes as `tests.sandboxes`."""

import os

# HTTP tests start Odoo's server in the test process; with queue_job among the server-wide
# modules its job runner would start too and run jobs behind the tests' back (committing).
# Tests run the jobs they create themselves.
os.environ["ODOO_QUEUE_JOB_CHANNELS"] = "root:0"
