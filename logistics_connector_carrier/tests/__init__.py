from . import test_adapter_registration
from . import test_sandbox_carrier
