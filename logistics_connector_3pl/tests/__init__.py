from . import test_adapter_registration
