"""The acknowledgements an input deserves: a TA1 for the interchange envelope, a 997 for
every functional group."""

import re

from .codes import REJECTED
from .serializer import FunctionalGroup, Interchange, TransactionSet

# Characters a received value keeps when an acknowledgement repeats it: never one that
# serves as a separator in practice (* ~ > : ^ | \\ ' and the like), whatever separators the
# file or our reply use. The rest becomes "?".
_NOT_REPEATED = re.compile(r"[^A-Za-z0-9 \-.,/()&+=?#@$%]")


def _copy_of_bad_data(value):
    """AK404: the bad value, writable whatever the separators, at most 99 characters."""
    if not value:
        return None
    return _NOT_REPEATED.sub("?", value)[:99]


def _echo(value, max_length):
    """A received value repeated in an acknowledgement, clipped to the element's width: an
    acknowledgement of a damaged file must still be writable."""
    return _NOT_REPEATED.sub("?", value or "")[:max_length]


def ta1_segment(interchange_result):
    """TA1*ISA13*ISA09*ISA10*ack*note: one per input interchange, with its first note."""
    note = interchange_result.notes[0][0] if interchange_result.notes else "000"
    return (
        "TA1",
        [
            _echo(interchange_result.control_number, 9),
            _echo(interchange_result.date, 6),
            _echo(interchange_result.time, 4),
            interchange_result.code,
            note,
        ],
    )


def build_997(group_result, control_number):
    """The 997 set answering one input functional group."""
    segments = [
        ("AK1", [_echo(group_result.functional_id, 2), _echo(group_result.control_number, 9)])
    ]
    for result in group_result.sets:
        segments.append(("AK2", [_echo(result.set_id, 3), _echo(result.control_number, 9)]))
        for finding in result.errors:
            if finding.elements:
                segments.append(("AK3", [_echo(finding.tag, 3), str(finding.position), None, "8"]))
                for element in finding.elements[:99]:
                    position = (
                        [str(element.position), str(element.component)]
                        if element.component
                        else str(element.position)
                    )
                    segments.append(
                        (
                            "AK4",
                            [
                                position,
                                str(element.ref) if isinstance(element.ref, int) else None,
                                element.code,
                                _copy_of_bad_data(element.value),
                            ],
                        )
                    )
            else:
                segments.append(
                    ("AK3", [_echo(finding.tag, 3), str(finding.position), None, finding.code])
                )
        segments.append(("AK5", [result.code, *result.error_codes]))
    declared = group_result.declared_sets
    if declared and declared.isascii() and declared.isdigit():
        included = declared
    else:
        included = str(group_result.received)
    segments.append(
        (
            "AK9",
            [
                group_result.code,
                included,
                str(group_result.received),
                str(group_result.accepted_count),
                *group_result.error_codes,
            ],
        )
    )
    return TransactionSet("997", control_number, segments)


def _reply_version(version):
    """GS08 of the 997 answering a group in ``version``: 005010 for a 005010 group (its
    997 has the 005010 codes), 004010 otherwise."""
    return "005010" if (version or "")[:6] == "005010" else "004010"


def build_acknowledgements(
    report,
    interchange_control_number=1,
    group_control_number=1,
    set_control_number=1,
    always_ta1=False,
    now=None,
):
    """One reply interchange per input interchange: a TA1 when the envelope has errors (or
    the sender asked for one with ISA14=1, or ``always_ta1``), and a 997 group answering
    every functional group unless the whole interchange was rejected. The reply keeps the
    input's versions: ISA12 00401 or 00501, a 005010 997 for a 005010 group.

    Control numbers count up from the given ones; returns a list of ``Interchange``.
    """
    replies = []
    isa13, gs06, st02 = interchange_control_number, group_control_number, set_control_number
    for received in report.interchanges:
        sender_qualifier, sender_id = received.receiver
        receiver_qualifier, receiver_id = received.sender
        reply = Interchange(
            _echo(sender_qualifier, 2),
            _echo(sender_id, 15),
            _echo(receiver_qualifier, 2),
            _echo(receiver_id, 15),
            isa13,
            usage=received.usage if received.usage in ("P", "T") else "P",
            version=received.header[11] if received.header[11] in ("00401", "00501") else "00401",
            date=now,
        )
        isa13 += 1
        if received.notes or received.ack_requested or always_ta1:
            reply.interchange_segments.append(ta1_segment(received))
        if received.code != REJECTED and received.groups:
            by_pair = {}
            for group in received.groups:
                version = _reply_version(group.version)
                key = (_echo(group.receiver, 15), _echo(group.sender, 15), version)
                if key not in by_pair:
                    by_pair[key] = FunctionalGroup("FA", *key[:2], gs06, version, date=now)
                    gs06 += 1
                    reply.groups.append(by_pair[key])
                by_pair[key].sets.append(build_997(group, st02))
                st02 += 1
        if reply.groups or reply.interchange_segments:
            replies.append(reply)
    return replies
