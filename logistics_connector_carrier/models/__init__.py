from . import logistics_backend
from . import logistics_message
from . import logistics_adapter_easypost
from . import logistics_registry
from . import logistics_carrier_label
from . import logistics_carrier_fallback
from . import delivery_carrier
from . import stock_picking
