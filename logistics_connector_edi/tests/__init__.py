from . import test_adapter_registration
from . import test_x12_canonical
from . import test_x12_cli
from . import test_x12_engine
from . import test_x12_properties
from . import test_x12_screens
from . import test_x12_sftp_partner
from . import test_x12_partner_settings
