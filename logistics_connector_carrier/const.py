"""Constants of the carrier addon, in one place."""

# The delivery_type of shipping methods whose carrier is a logistics partner.
DELIVERY_TYPE = "logistics"

# Flows of carrier exchanges (added to the base's flow selection).
CARRIER_FLOWS = [
    ("rate", "Rate Request"),
    ("label", "Label Purchase"),
    ("label_cancel", "Label Cancellation"),
]

# Delivery states of a parcel, in the order a parcel lives them. The base's tracking statuses
# plus "failed_attempt" (a carrier came and could not deliver).
FAILED_ATTEMPT = "failed_attempt"
STATUS_RANK = {
    "label_created": 10,
    "in_transit": 20,
    "available_for_pickup": 30,
    "out_for_delivery": 30,
    FAILED_ATTEMPT: 33,
    "exception": 35,
    "delivered": 100,
    "returned": 100,
    "cancelled": 100,
}
# A parcel in one of these states never moves again: polling stops, late events are history.
FINAL_STATES = ("delivered", "returned", "cancelled")

# EasyPost tracker status -> canonical tracking_event status.
EASYPOST_STATUS = {
    "unknown": "label_created",
    "pre_transit": "label_created",
    "in_transit": "in_transit",
    "out_for_delivery": "out_for_delivery",
    "available_for_pickup": "available_for_pickup",
    "delivered": "delivered",
    "return_to_sender": "returned",
    "failure": "exception",
    "cancelled": "cancelled",
    "error": "exception",
}
# EasyPost status details (reasons) that mean "the courier came and could not deliver".
FAILED_ATTEMPT_REASONS = {"attempted_delivery", "failed_attempt", "delivery_attempted", "no_access"}
# A delivery exception's reason -> the logistics exception type people work.
EXCEPTION_TYPE_BY_REASON = {
    "address_not_found": "address_invalid",
    "incorrect_address": "address_invalid",
    "address_invalid": "address_invalid",
    "customs_hold": "customs_hold",
    "held_in_customs": "customs_hold",
    "damaged": "damaged_goods",
    "damaged_goods": "damaged_goods",
}

# Label formats a shipping method can ask for, and the attachment they become.
LABEL_FORMATS = [("PDF", "PDF"), ("ZPL", "ZPL (thermal printers)")]
LABEL_MIMETYPES = {"PDF": "application/pdf", "ZPL": "application/zpl", "PNG": "image/png"}

# Ounces per kilogram (EasyPost weighs parcels in ounces) and inches per metre.
OUNCES_PER_KG = 35.27396195
INCHES_PER_MM = 1 / 25.4

# Per state, the mail template a customer can be sent (shipping method settings choose).
NOTIFY_TEMPLATES = {
    "in_transit": "logistics_connector_carrier.mail_template_parcel_in_transit",
    "out_for_delivery": "logistics_connector_carrier.mail_template_parcel_out_for_delivery",
    "delivered": "logistics_connector_carrier.mail_template_parcel_delivered",
    FAILED_ATTEMPT: "logistics_connector_carrier.mail_template_parcel_failed_attempt",
}

# Rate answers are kept this many seconds by default: the same order asked again within it
# is answered from the stored exchange without calling the carrier.
DEFAULT_RATE_CACHE_SECONDS = 600

# ParcelService (SOAP) tracking codes -> (canonical status, reason).
SOAP_STATUS = {
    "LC": ("label_created", None),
    "IT": ("in_transit", None),
    "OD": ("out_for_delivery", None),
    "DL": ("delivered", None),
    "FA": ("exception", "failed_attempt"),
    "DE": ("exception", None),
    "RS": ("returned", None),
    "CA": ("cancelled", None),
}
