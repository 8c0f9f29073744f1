from . import test_adapter_registration
from . import test_sandbox_carrier
from . import test_carrier_shipping
from . import test_carrier_tracking
from . import test_carrier_rollback
from . import test_carrier_fallback
from . import test_rate_shopping
from . import test_sandbox_easypost_client
