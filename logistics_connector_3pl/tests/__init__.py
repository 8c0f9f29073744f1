from . import test_adapter_registration
from . import test_release_routing
from . import test_release_tour
from . import test_extensiv
from . import test_flatfile
from . import test_inventory_sync
from . import test_shipbob_lifecycle
from . import test_demo_partners
