"""The logistics status of a transfer at its 3PL, and when an event may change it.

Events arrive late, twice or out of order (webhooks are at-least-once and unordered): a status
only moves forward in the order a transfer lives it, except that a newer event may put an
order on hold or in exception and take it out again. Final statuses never change.
"""

STATUSES = [
    ("released", "Sent to 3PL"),
    ("release_blocked", "Release blocked"),
    ("acknowledged", "Acknowledged"),
    ("on_hold", "On hold"),
    ("exception", "Exception at 3PL"),
    ("picked", "Picked"),
    ("packed", "Packed"),
    ("cancel_requested", "Cancellation requested"),
    ("partially_shipped", "Partially shipped"),
    ("shipped", "Shipped"),
    ("received", "Received"),
    ("delivered", "Delivered"),
    ("cancelled", "Cancelled at 3PL"),
]
RANK = {
    False: 0,
    None: 0,
    "release_blocked": 5,
    "released": 10,
    "acknowledged": 20,
    "on_hold": 25,
    "exception": 25,
    "picked": 30,
    "packed": 40,
    "cancel_requested": 45,
    "partially_shipped": 50,
    "shipped": 60,
    "received": 60,
    "delivered": 70,
    "cancelled": 80,
}
# Where a warehouse stands with an order it may still pick: progress events apply.
IN_PROGRESS = ("released", "acknowledged", "on_hold", "exception", "picked", "packed")
TROUBLE = ("on_hold", "exception")
FINAL = ("delivered", "cancelled", "received")


def may_change(current, current_at, new, new_at):
    """Whether an event saying ``new`` (at ``new_at``) may replace ``current`` (set by an
    event at ``current_at``). Dates are comparable values or None (unknown).

    >>> may_change("picked", 2, "acknowledged", 1)
    False
    >>> may_change("picked", 2, "on_hold", 3)
    True
    >>> may_change("on_hold", 3, "packed", 4)
    True
    >>> may_change("on_hold", 3, "picked", 2)
    False
    >>> may_change("shipped", 5, "delivered", 4)
    True
    >>> may_change("delivered", 6, "shipped", 7)
    False
    >>> may_change("shipped", 5, "cancelled", 6)
    False
    >>> may_change("packed", 5, "exception", 6)
    True
    """
    if new == current or current in FINAL:
        return False
    if new in ("partially_shipped", "shipped", "received", "delivered"):
        # What was shipped or received is confirmed: only a further step replaces it.
        return RANK[new] >= RANK[current]
    if new == "cancelled":
        return current != "shipped"
    if current and current not in IN_PROGRESS:
        return False  # shipped, or a cancellation under way: progress no longer shows
    newer = current_at is None or new_at is None or new_at >= current_at
    if new in TROUBLE or current in TROUBLE:
        return newer
    return newer and RANK[new] > RANK[current]
