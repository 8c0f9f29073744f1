"""Constants shared by the models of the base: selections, groups, batch sizes."""

from collections import namedtuple

MANAGER_GROUP = "logistics_connector_base.group_logistics_manager"

# A flow's settings as the pipeline reads them (mode False: no flow configured).
FlowSettings = namedtuple("FlowSettings", ["mode", "ack_expected_minutes"])

# Oldest entries removed per company by one purge call: keeps the chain head lock short.
AUDIT_PURGE_BATCH = 5000

AUDIT_EVENTS = [
    ("send", "Sent"),
    ("receive", "Received"),
    ("state_change", "State Change"),
    ("retry", "Retry"),
    ("replay", "Replay"),
    ("resolve", "Resolved"),
    ("ignore", "Ignored"),
    ("assign", "Assignment"),
    ("reopen", "Reopened"),
    ("config_change", "Configuration Change"),
    ("webhook_rejected", "Webhook Rejected"),
    ("purge", "Retention Purge"),
    ("other", "Other"),
]

EXCEPTION_TYPES = [
    ("stockout", "Stockout"),
    ("partial_shipment", "Partial Shipment"),
    ("damaged_goods", "Damaged Goods"),
    ("failed_delivery", "Failed Delivery"),
    ("address_invalid", "Invalid Address"),
    ("service_unavailable", "Service Unavailable"),
    ("customs_hold", "Customs Hold"),
    ("ack_overdue", "Acknowledgement Overdue"),
    ("mapping_missing", "Missing Mapping"),
    ("validation_error", "Validation Error"),
    ("partner_rejected", "Rejected by Partner"),
    ("document_not_applied", "Partner Document Not Applied"),
    ("inventory_mismatch", "Inventory Mismatch"),
    ("freight_discrepancy", "Freight Discrepancy"),
    ("partner_down", "Partner Down"),
    ("configuration_error", "Configuration Error"),
    ("other", "Other"),
]

SEVERITIES = [
    ("low", "Low"),
    ("medium", "Medium"),
    ("high", "High"),
    ("critical", "Critical"),
]

EXCEPTION_OPEN_STATES = ("new", "in_progress")

EXCEPTION_CLOSED_STATES = ("resolved", "ignored")

# Closed exceptions deleted per purge run (with their chatter): keeps each run short.
EXCEPTION_PURGE_BATCH = 1000

DEFAULT_SLA_HOURS = 24

MAPPING_TYPES = [
    ("warehouse", "Warehouse"),
    ("carrier_service", "Carrier Service"),
    ("status_code", "Status Code"),
    ("uom", "Unit of Measure"),
    ("product", "Product / SKU"),
    ("reason_code", "Reason Code"),
    ("country", "Country"),
    ("other", "Other"),
]

FLOW_SELECTION = [
    ("order_release", "Order Release"),
    ("shipment", "Shipment Confirmation"),
    ("inventory_snapshot", "Inventory Snapshot"),
    ("receipt", "Receipt / ASN"),
    ("return", "Return"),
    ("tracking_event", "Tracking Event"),
    ("freight_invoice", "Freight Invoice"),
    ("ack", "Acknowledgement"),
    ("webhook", "Webhook Delivery"),
    ("file", "File Transfer"),
]

MESSAGE_OPEN_STATES = ("pending", "queued", "in_progress", "retry")

# Inbound flows applied in batches (see _applied_in_batches).
LIGHT_INBOUND_FLOWS = ("ack", "tracking_event")

MESSAGE_PREFIX = "LCM"

# Longest exception title made from a message's error (the problem, then the message name).
EXCEPTION_TITLE_MAX = 120

# Messages one cron run handles; a full batch asks the cron to run again at once, so a huge
# backlog is worked through in short transactions that commit their progress.
CRON_BATCH = 500

# A job waits in place for a rate-limit slot this close; a later slot postpones the job.
RATE_LIMIT_MAX_SLEEP = 2.0

# Seconds a half-open probe may take before another worker may probe instead.
PROBE_LEASE = 120
# A partner's last success is written at most this often (seconds) while it stays healthy.
HEALTH_STALENESS = 30

# Tracking statuses in the order a parcel lives them: a late event never moves a picking back.
TRACKING_RANK = {
    "label_created": 10,
    "in_transit": 20,
    "available_for_pickup": 30,
    "out_for_delivery": 30,
    "exception": 35,
    "delivered": 100,
    "returned": 100,
    "cancelled": 100,
}

REMAINDER_POLICIES = [
    ("backorder", "Keep the rest in a backorder"),
    ("cancel", "Cancel the rest"),
]

LINE_STATUSES = [
    ("match", "Match"),
    ("difference", "Difference"),
    ("adjusted", "Adjusted"),
    ("exception", "Needs a person"),
]

# Retention defaults in days (system parameters logistics_connector.<what>_retention_days).
PAYLOAD_RETENTION_DAYS = 90
MESSAGE_RETENTION_DAYS = 365
EXCEPTION_RETENTION_DAYS = 365
# Seven years: the usual retention of business records.
AUDIT_RETENTION_DAYS = 2555
