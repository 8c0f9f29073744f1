from . import logistics_backend
from . import logistics_x12_partner_settings
from . import logistics_x12_interchange
from . import logistics_adapter_x12_sftp
from . import logistics_message
from . import logistics_x12_validate_wizard
from . import logistics_ship_notice
