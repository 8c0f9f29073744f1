from . import (
    test_audit_log,
    test_backend,
    test_exception,
    test_exception_tour,
    test_screens,
    test_screens_tour,
    test_ui,
)
