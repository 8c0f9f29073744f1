"""Validate X12 as it streams by: envelopes, transaction set structure and elements.

``X12Reader`` reads segments from the tokenizer and works one transaction set at a time:
the structure check is a state machine fed segment by segment, so a set is validated without
being kept in memory (``keep_segments=False``), and a file of any size holds at most one
set's segments (``keep_segments=True``, for decoding).

The segments inside a set take a short path: a segment text already found clean is only
placed in the structure; a new one is placed, then checked by its spec's regular expression
and, only when that refuses it, by the element checks that write the findings (see
``elements.segment_matcher``).
"""

import re

from .codes import FUNCTIONAL_IDS
from .elements import segment_matcher, valid_date, valid_time
from .errors import UnreadableFile
from .report import GroupResult, InterchangeResult, Report, SetResult
from .spec import DEFAULT_RULES
from .structure import SetValidator, StructureMachine
from .tokenizer import Segment, iter_raw_blocks

# the segments that end the hot path (a lone "ISA" without separators is just a bad segment:
# a real ISA comes from the tokenizer as an InterchangeHeader)
_ENVELOPE_TAGS = frozenset(("IEA", "GS", "GE", "ST", "SE"))
# how many distinct clean segment texts a reader remembers per set spec and separators
CLEAN_LIMIT = 4096


class ParsedSet:
    """What the reader yields for each transaction set."""

    __slots__ = ("group", "interchange", "result", "segments")

    def __init__(self, interchange, group, result, segments):
        self.interchange = interchange
        self.group = group
        self.result = result
        self.segments = segments


class X12Reader:
    """Read and validate a file; iterate to get each transaction set as it completes.

    :param source: X12 text (str), bytes, a ``pathlib.Path`` or a binary/text file object
    :param registry: specifications (``sets_004010.default_registry()`` by default)
    :param rules: the partner's ``PartnerRules``
    :param keep_segments: keep each set's segments on the yielded ``ParsedSet``
    :param is_duplicate_interchange: callable (sender, receiver, ISA13) -> bool telling
        whether an interchange was already received before this file (e.g. from a ledger)
    :param expected_receiver: (qualifier, id) we expect in ISA07/ISA08, or None
    """

    def __init__(
        self,
        source,
        registry=None,
        rules=DEFAULT_RULES,
        keep_segments=True,
        is_duplicate_interchange=None,
        expected_receiver=None,
    ):
        if registry is None:
            from .sets_004010 import default_registry

            registry = default_registry()
        self.source = source
        self.registry = registry
        self.rules = rules
        self.keep_segments = keep_segments
        self.is_duplicate_interchange = is_duplicate_interchange
        self.expected_receiver = expected_receiver
        self.report = Report()
        self._known_tags = registry.known_tags()
        self._checkers = {}
        self._machines = {}
        self._contexts = {}

    def run(self):
        """Validate the whole file; returns the Report."""
        for _parsed in self:
            pass
        return self.report

    def __iter__(self):
        report = self.report
        interchange = group = result = validator = None
        segments = None
        position = 0
        seen_interchanges = set()
        seen_groups = set()
        seen_sets = set()
        keep = self.keep_segments
        separator = "*"
        # the hot path, inside a validated set: the structure's state, its use counters,
        # segment texts already found clean (text -> tag) and the fast element checks
        machine = transitions = counters = clean = None
        clean_get = None
        number = 0
        try:
            for block in iter_raw_blocks(self.source):
                if block.__class__ is not list:
                    # an ISA: ends whatever is open, starts an interchange
                    number += 1
                    block.number = number
                    parsed = self._close_set(
                        interchange, group, result, validator, segments, position, transitions
                    )
                    result = validator = segments = None
                    if parsed:
                        yield parsed
                    self._close_group(group)
                    group = None
                    self._close_interchange(interchange)
                    interchange = InterchangeResult(block.elements, block.delimiters, number)
                    report.interchanges.append(interchange)
                    self._check_isa(interchange, seen_interchanges)
                    seen_groups = set()
                    separator = block.delimiters.element
                    continue
                for raw in block:
                    number += 1
                    if validator is not None:
                        tag = clean_get(raw)
                        unchecked = tag is None
                        if unchecked:
                            tag = raw.partition(separator)[0]
                        if not unchecked or tag not in _ENVELOPE_TAGS:
                            # the hot path: a segment inside a transaction set
                            position += 1
                            if keep:
                                segments.append(Segment(tag, raw.split(separator)[1:], number))
                            move = transitions.get(tag)
                            if move is None:
                                move = machine.transition(transitions, tag)
                            transitions, depth, limit, push_at, extra, match = move
                            if extra is not None and not validator.emit(extra, position, number):
                                continue  # out of place: its elements are not looked at
                            if limit:
                                count = counters[depth] = counters[depth] + 1
                                if count > limit:
                                    validator.over_limit(
                                        push_at, tag, count, limit, position, number
                                    )
                            else:
                                counters[depth] = 1
                            counters[push_at] = 1
                            if unchecked:
                                if match(raw) or validator.check_elements(
                                    raw.split(separator), position, number
                                ):
                                    if len(clean) < CLEAN_LIMIT:
                                        clean[raw] = tag
                            continue
                    elements = raw.split(separator)
                    tag = elements[0]
                    if result is not None and tag not in _ENVELOPE_TAGS:
                        # a segment of a set that is not validated (unknown set or version)
                        position += 1
                        if keep:
                            segments.append(Segment(tag, elements[1:], number))
                        continue
                    segment = Segment(tag, elements[1:], number)
                    if interchange is None:
                        # the tokenizer only yields segments after an ISA; cannot happen
                        raise UnreadableFile(f"segment {tag} outside an interchange")
                    if tag == "IEA":
                        parsed = self._close_set(
                            interchange, group, result, validator, segments, position, transitions
                        )
                        result = validator = segments = None
                        if parsed:
                            yield parsed
                        self._close_group(group)
                        group = None
                        self._close_interchange(interchange, segment)
                        interchange = None
                        continue
                    if tag in ("GS", "GE", "ST"):
                        parsed = self._close_set(
                            interchange, group, result, validator, segments, position, transitions
                        )
                        result = validator = segments = None
                        if parsed:
                            yield parsed
                    if tag == "GS":
                        self._close_group(group)
                        group = self._open_group(segment, interchange, seen_groups)
                        seen_sets = set()
                        continue
                    if tag == "GE":
                        if group is None:
                            interchange.notes.append(
                                ("022", f"GE at segment {segment.number} without a GS before it")
                            )
                        else:
                            self._close_group(group, segment)
                            group = None
                        continue
                    if group is None and tag == "TA1":
                        continue  # an interchange acknowledgement travels outside groups
                    if group is None:
                        interchange.notes.append(
                            (
                                "024",
                                f"segment {tag} at segment {segment.number} of the file is "
                                "outside a functional group (GS ... GE)",
                            )
                        )
                        continue
                    if tag == "ST":
                        position = 1
                        result, validator = self._open_set(segment, group, interchange, seen_sets)
                        segments = [segment] if keep else None
                        if validator is not None:
                            machine = validator.machine
                            transitions = validator.transitions
                            counters = validator.counters
                            clean = self._clean_texts(
                                result.set_id, group.version, interchange.delimiters
                            )
                            clean_get = clean.get
                        continue
                    if tag == "SE":
                        if result is None:
                            group.group_errors.append(
                                ("3", f"SE at segment {segment.number} without an ST before it")
                            )
                            continue
                        position += 1
                        if keep:
                            segments.append(segment)
                        parsed = self._close_set(
                            interchange,
                            group,
                            result,
                            validator,
                            segments,
                            position,
                            transitions,
                            segment,
                        )
                        result = validator = segments = None
                        yield parsed
                        continue
                    # a segment between sets
                    group.group_errors.append(
                        (
                            "5",
                            f"segment {tag} at segment {segment.number} of the file is outside "
                            "a transaction set (ST ... SE)",
                        )
                    )
        except UnreadableFile as error:
            report.unreadable = str(error)
        if not report.interchanges and not report.unreadable:
            report.unreadable = "the file holds no interchange (it is empty or blank)"
        parsed = self._close_set(
            interchange, group, result, validator, segments, position, transitions
        )
        if parsed:
            yield parsed
        self._close_group(group)
        self._close_interchange(interchange)

    # --- the hot path's helpers ------------------------------------------------------

    def _clean_texts(self, set_id, version, delimiters):
        """Segment texts found clean (text -> tag) in a set spec with these separators: a
        text found clean once is clean wherever the set has that segment."""
        key = (set_id, version, delimiters)
        clean = self._contexts.get(key)
        if clean is None:
            clean = self._contexts[key] = {}
        return clean

    # --- trailers --------------------------------------------------------------------

    def _close_set(
        self, interchange, group, result, validator, segments, position, transitions, trailer=None
    ):
        """Check a set's trailer (or its absence); returns the ParsedSet, or None when no
        set is open. ``transitions``: the structure's state the hot path kept in a local,
        handed back to the set's validator first."""
        if validator is not None:
            validator.transitions = transitions
        if result is None:
            return None
        if trailer is None:
            result.set_errors.append(("2", "the set ends without its SE trailer"))
            if validator:
                validator.close(position + 1, None)
        else:
            result.segment_count = position
            declared, control = trailer.element(1), trailer.element(2)
            if validator:
                validator.close(position, trailer.number)
            if declared != str(position):
                result.set_errors.append(
                    (
                        "4",
                        f"SE01 says {declared or 'nothing'} segments, the set has "
                        f"{position} (counting ST and SE)",
                    )
                )
            if control != result.control_number:
                result.set_errors.append(
                    ("3", f"SE02 is {control!r} but ST02 is {result.control_number!r}")
                )
        return ParsedSet(interchange, group, result, segments)

    def _close_group(self, group, trailer=None):
        if group is None:
            return
        if trailer is None:
            group.group_errors.append(("3", "the group ends without its GE trailer"))
            return
        declared, control = trailer.element(1), trailer.element(2)
        group.declared_sets = declared
        if declared != str(len(group.sets)):
            group.group_errors.append(
                (
                    "5",
                    f"GE01 says {declared or 'nothing'} transaction sets, the group "
                    f"has {len(group.sets)}",
                )
            )
        if control != group.control_number:
            group.group_errors.append(
                ("4", f"GE02 is {control!r} but GS06 is {group.control_number!r}")
            )

    def _close_interchange(self, interchange, trailer=None):
        if interchange is None:
            return
        if trailer is None:
            interchange.notes.append(
                ("023", "the file ends (or a new ISA starts) before this interchange's IEA")
            )
            return
        declared, control = trailer.element(1), trailer.element(2)
        interchange.declared_groups = declared
        interchange.trailer_control_number = control
        if declared != str(len(interchange.groups)):
            interchange.notes.append(
                (
                    "021",
                    f"IEA01 says {declared or 'nothing'} groups, the interchange has "
                    f"{len(interchange.groups)}",
                )
            )
        if control != interchange.control_number:
            interchange.notes.append(
                ("001", f"IEA02 is {control!r} but ISA13 is {interchange.control_number!r}")
            )

    # --- envelope headers -----------------------------------------------------------

    def _check_isa(self, interchange, seen):
        isa = interchange.header
        notes = interchange.notes
        if isa[0] not in ("00", "01", "02", "03", "04", "05", "06"):
            notes.append(("010", f"ISA01 {isa[0]!r} is not an authorization qualifier"))
        if isa[2] not in ("00", "01"):
            notes.append(("012", f"ISA03 {isa[2]!r} is not a security qualifier"))
        for index, code in ((4, "005"), (6, "007")):
            if not isa[index].strip() or not isa[index].strip().isalnum():
                notes.append((code, f"ISA{index + 1:02d} {isa[index]!r} is not an ID qualifier"))
        for index, code in ((5, "006"), (7, "008")):
            if not isa[index].strip():
                notes.append((code, f"ISA{index + 1:02d} is blank"))
        if not valid_date(isa[8]):
            notes.append(("014", f"ISA09 {isa[8]!r} is not a date (YYMMDD)"))
        if not valid_time(isa[9]):
            notes.append(("015", f"ISA10 {isa[9]!r} is not a time (HHMM)"))
        if isa[11] < "00501" and isa[10] != "U":
            notes.append(("016", f"ISA11 must be 'U' in version {isa[11]}, found {isa[10]!r}"))
        elif isa[11] == "00501" and interchange.delimiters.repetition is None:
            notes.append(
                (
                    "016",
                    f"ISA11 must be the repetition separator (a special character) in version "
                    f"{isa[11]}, found {isa[10]!r}",
                )
            )
        if not isa[11].isdigit() or isa[11] not in ("00401", "00501"):
            notes.append(("017", f"ISA12 {isa[11]!r}: this engine reads versions 00401 and 00501"))
        if not (isa[12].isascii() and isa[12].isdigit()):
            notes.append(("018", f"ISA13 {isa[12]!r} must be 9 digits"))
        if isa[13] not in ("0", "1"):
            notes.append(("019", f"ISA14 {isa[13]!r} must be 0 or 1"))
        if isa[14] not in ("P", "T", "I"):
            notes.append(("020", f"ISA15 {isa[14]!r} must be P (production) or T (test)"))
        if self.expected_receiver and ((isa[6], isa[7].rstrip()) != tuple(self.expected_receiver)):
            notes.append(
                (
                    "009",
                    f"the interchange is addressed to {isa[6]}/{isa[7].rstrip()}, we are "
                    f"{'/'.join(self.expected_receiver)}",
                )
            )
        key = (interchange.sender, interchange.receiver, isa[12])
        if key in seen:
            notes.append(("025", f"ISA13 {isa[12]} was already used earlier in this file"))
        elif self.is_duplicate_interchange and self.is_duplicate_interchange(*key):
            notes.append(("025", f"ISA13 {isa[12]} was already received from this sender"))
        seen.add(key)

    def _open_group(self, segment, interchange, seen):
        element = segment.element
        group = GroupResult(
            functional_id=element(1),
            sender=element(2),
            receiver=element(3),
            date=element(4),
            time=element(5),
            control_number=element(6),
            version=element(8),
            first_segment=segment.number,
        )
        interchange.groups.append(group)
        errors = group.group_errors
        if group.functional_id not in FUNCTIONAL_IDS.values():
            errors.append(("1", f"GS01 {group.functional_id!r} is not a group this engine reads"))
        version = group.version
        if not version or (
            version[:6] not in self.rules.versions and version not in self.rules.versions
        ):
            errors.append(
                (
                    "2",
                    f"GS08 version {version!r} is not accepted (accepted: "
                    f"{', '.join(self.rules.versions)})",
                )
            )
        control = group.control_number
        if not (control.isascii() and control.isdigit()) or len(control) > 9:
            errors.append(("6", f"GS06 {control!r} must be a number of at most 9 digits"))
        elif control in seen:
            errors.append(("6", f"GS06 {control} is used twice in this interchange"))
        seen.add(control)
        if not valid_date(element(4)) or len(element(4)) != 8:
            interchange.notes.append(("024", f"GS04 {element(4)!r} is not a date (CCYYMMDD)"))
        if not valid_time(element(5)):
            interchange.notes.append(("024", f"GS05 {element(5)!r} is not a time (HHMM)"))
        return group

    def _open_set(self, segment, group, interchange, seen):
        set_id, control = segment.element(1), segment.element(2)
        result = SetResult(set_id, control, segment.number)
        group.sets.append(result)
        validator = None
        if not re.fullmatch(r"[A-Za-z0-9]{4,9}", control or ""):
            result.set_errors.append(("7", f"ST02 {control!r} must be 4 to 9 characters"))
        elif control in seen:
            result.set_errors.append(("23", f"ST02 {control} is used twice in this group"))
        seen.add(control)
        expected_group = FUNCTIONAL_IDS.get(set_id)
        if expected_group is None:
            result.set_errors.append(("1", f"transaction set {set_id!r} is not supported"))
        elif expected_group != group.functional_id:
            result.set_errors.append(
                (
                    "6",
                    f"a {set_id} belongs in a {expected_group} group, this group is "
                    f"{group.functional_id}",
                )
            )
        else:
            spec = self.registry.compiled(set_id, group.version, self.rules)
            if spec is None:
                result.set_errors.append(
                    ("1", f"transaction set {set_id} version {group.version} is not supported")
                )
            else:
                result.name = spec.name
                delimiters = interchange.delimiters
                key = (set_id, group.version, delimiters)
                machine = self._machines.get(key)
                if machine is None:
                    charset = self.rules.charset

                    def element_match(tag, segments=spec.segments):
                        return segment_matcher(
                            segments[tag],
                            charset,
                            delimiters.element,
                            delimiters.component,
                            delimiters.repetition,
                        )

                    machine = self._machines[key] = StructureMachine(
                        spec, self._known_tags, element_match
                    )
                checkers = self._checkers.setdefault(key, {})
                validator = SetValidator(machine, result, delimiters, checkers, self.rules)
        return result, validator


def validate(source, **options):
    """Validate a whole file; returns its Report (see ``X12Reader`` for the options)."""
    return X12Reader(source, keep_segments=False, **options).run()
