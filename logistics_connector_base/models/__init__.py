from . import logistics_audited_mixin  # before the models that inherit it
from . import logistics_document_link
from . import logistics_backend
from . import logistics_flow
from . import logistics_mapping
from . import logistics_message
from . import logistics_adapter
from . import logistics_registry
from . import business_documents
from . import logistics_audit_log
from . import logistics_exception
from . import logistics_exception_rule
from . import logistics_team
from . import ir_http
from . import logistics_webhook_refusal
from . import logistics_backend_fulfilment
from . import logistics_inventory_report
from . import logistics_appliers_stock
