from . import logistics_rate_shopping
from . import logistics_freight_invoice_import
