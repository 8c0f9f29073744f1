"""Constants of the EDI addon: the transaction sets it knows, which flow each feeds by
default, and the choices of the trading partner settings."""

# The transaction sets the adapter reads or writes, in words for the screens
X12_SETS = [
    ("940", "940 Warehouse Shipping Order"),
    ("943", "943 Stock Transfer Shipment Advice"),
    ("856", "856 Ship Notice/Manifest"),
    ("945", "945 Warehouse Shipping Advice"),
    ("944", "944 Stock Transfer Receipt Advice"),
    ("846", "846 Inventory Inquiry/Advice"),
    ("214", "214 Carrier Shipment Status"),
    ("210", "210 Freight Details and Invoice"),
    ("997", "997 Functional Acknowledgment"),
]

# The sets the adapter can write, and those it can read (a mapping names one of them)
OUTBOUND_SETS = ("940", "943", "856", "997")
INBOUND_SETS = ("945", "944", "846", "214", "210", "997")

# The canonical document each set carries, and the one each flow carries: a mapping is only
# possible between a set and a flow of the same document (an 846 cannot feed shipments)
DOCUMENT_BY_SET = {
    "940": "order_release",
    "943": "receipt",
    "856": "shipment",
    "945": "shipment",
    "944": "receipt",
    "846": "inventory_snapshot",
    "214": "tracking_event",
    "210": "freight_invoice",
    "997": "ack",
}
DOCUMENT_BY_FLOW = {
    "order_release": "order_release",
    "receipt": "receipt",
    "shipment": "shipment",
    "ship_notice": "shipment",
    "inventory_snapshot": "inventory_snapshot",
    "tracking_event": "tracking_event",
    "freight_invoice": "freight_invoice",
    "ack": "ack",
}

# The mapping a new X12 partner starts with: (direction, set, flow)
DEFAULT_SET_MAPPINGS = [
    ("inbound", "945", "shipment"),
    ("inbound", "944", "receipt"),
    ("inbound", "846", "inventory_snapshot"),
    ("inbound", "214", "tracking_event"),
    ("inbound", "210", "freight_invoice"),
    ("inbound", "997", "ack"),
    ("outbound", "940", "order_release"),
    ("outbound", "943", "receipt"),
    ("outbound", "856", "ship_notice"),
    ("outbound", "997", "ack"),
]

LINE_BREAKS = [("none", "None"), ("lf", "LF"), ("crlf", "CR LF")]

CHARSETS = [
    ("basic", "Basic (upper case, digits, a few signs)"),
    ("extended", "Extended (adds lower case and more signs)"),
]

# What a partner restriction line does (the engine's PartnerRules)
RESTRICTION_KINDS = [
    ("codes", "Only these codes"),
    ("required", "Mandatory"),
    ("tolerated", "Tolerated error"),
]

# AK3/AK4 error codes a partner may tolerate ("accepted with errors" instead of rejected)
TOLERABLE_ERRORS = [
    ("AK3:2", "AK3 2 - unexpected segment"),
    ("AK3:5", "AK3 5 - segment exceeds its maximum use"),
    ("AK3:6", "AK3 6 - segment not in the transaction set"),
    ("AK3:7", "AK3 7 - segment out of sequence"),
    ("AK4:2", "AK4 2 - conditional required element missing"),
    ("AK4:3", "AK4 3 - too many elements"),
    ("AK4:4", "AK4 4 - element too short"),
    ("AK4:5", "AK4 5 - element too long"),
    ("AK4:6", "AK4 6 - invalid character"),
    ("AK4:7", "AK4 7 - invalid code value"),
    ("AK4:10", "AK4 10 - exclusion condition violated"),
]

ACK_STATES = [
    ("not_expected", "Not Expected"),
    ("pending", "Pending"),
    ("accepted", "Accepted"),
    ("partial", "Accepted with Errors"),
    ("rejected", "Rejected"),
    ("overdue", "Overdue"),
]
