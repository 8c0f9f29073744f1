"""Constants of the EDI addon: which flow each X12 set feeds, and back."""

# functional group (GS01) of an inbound file -> the flow its message feeds
INBOUND_FLOW_BY_GROUP = {
    "SW": "shipment",  # 945
    "RE": "receipt",  # 944
    "IB": "inventory_snapshot",  # 846
    "FA": "ack",  # 997
    "QM": "tracking_event",  # 214
    "IM": "freight_invoice",  # 210
}

# outbound flow -> transaction set written
OUTBOUND_SET_BY_FLOW = {
    "order_release": "940",
    "receipt": "943",
    "ship_notice": "856",
    "ack": "997",
}

LINE_BREAKS = [("none", "None"), ("lf", "LF"), ("crlf", "CR LF")]

ACK_STATES = [
    ("not_expected", "Not Expected"),
    ("pending", "Pending"),
    ("accepted", "Accepted"),
    ("partial", "Accepted with Errors"),
    ("rejected", "Rejected"),
    ("overdue", "Overdue"),
]
