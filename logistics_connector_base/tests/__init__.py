from . import test_backend, test_ui
