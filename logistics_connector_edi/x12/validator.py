"""Validate X12 as it streams by: envelopes, transaction set structure and elements.

``X12Reader`` reads segments from the tokenizer and works one transaction set at a time:
the structure check is a state machine fed segment by segment, so a set is validated without
being kept in memory (``keep_segments=False``), and a file of any size holds at most one
set's segments (``keep_segments=True``, for decoding).
"""

import datetime
import re

from .charset import EXTENDED, INVALID_CHARACTER, describe_character
from .codes import FUNCTIONAL_IDS
from .errors import UnreadableFile
from .report import (
    ElementFinding,
    GroupResult,
    InterchangeResult,
    Report,
    SegmentFinding,
    SetResult,
    describe_segment_code,
)
from .spec import DEFAULT_RULES, LoopSpec
from .tokenizer import Segment, iter_raw_segments

_NUMERIC = re.compile(r"-?\d+\Z")
_DECIMAL = re.compile(r"-?(?:\d+\.?\d*|\.\d+)\Z")
_TAG = re.compile(r"[A-Z][A-Z0-9]{1,2}\Z")
_ENVELOPE_TAGS = {"ISA", "IEA", "GS", "GE", "ST", "SE"}
_CACHE_LIMIT = 4096


def _valid_date(value):
    try:
        if len(value) == 8:
            datetime.date(int(value[:4]), int(value[4:6]), int(value[6:]))
        elif len(value) == 6:
            datetime.date(2000 + int(value[:2]), int(value[2:4]), int(value[4:]))
        else:
            return False
    except ValueError:
        return False
    return value.isdigit()


def _valid_time(value):
    if not value.isdigit() or len(value) < 4 or len(value) == 5:
        return False
    hours, minutes = int(value[:2]), int(value[2:4])
    seconds = int(value[4:6]) if len(value) >= 6 else 0
    return hours < 24 and minutes < 60 and seconds < 60


def check_value(spec, value, charset=EXTENDED):
    """Check one non-empty simple element value against its spec.

    :returns: None, or (AK403 code, plain-words detail)
    """
    kind = spec.type
    if kind in ("AN", "ID"):
        bad = INVALID_CHARACTER[charset].search(value)
        if bad:
            return "6", f"{describe_character(bad.group())} is not allowed (X12 {charset} set)"
        length = len(value)
    elif kind == "R":
        if not _DECIMAL.match(value):
            return "6", f"{value!r} is not a decimal number"
        length = len(value) - value.startswith("-") - ("." in value)
    elif kind == "DT":
        if not _valid_date(value):
            return "8", f"{value!r} is not a valid date (CCYYMMDD)"
        length = len(value)
    elif kind == "TM":
        if not _valid_time(value):
            return "9", f"{value!r} is not a valid time (HHMM, HHMMSS or HHMMSSdd)"
        length = len(value)
    else:  # Nn
        if not _NUMERIC.match(value):
            decimals = spec.decimals
            hint = f" with {decimals} implied decimals" if decimals else ""
            return "6", f"{value!r} is not a whole number{hint} (no decimal point)"
        length = len(value) - value.startswith("-")
    if length < spec.min_length:
        return "4", f"{value!r} is too short: {length} characters, at least {spec.min_length}"
    if length > spec.max_length:
        return "5", f"{value!r} is too long: {length} characters, at most {spec.max_length}"
    if spec.codes is not None and value not in spec.codes:
        expected = ", ".join(sorted(spec.codes)[:12])
        more = ", ..." if len(spec.codes) > 12 else ""
        return "7", f"{value!r} is not a valid code; expected one of {expected}{more}"
    return None


class SegmentChecker:
    """Element checks of one segment spec, with a cache of values already found valid
    (qualifiers and units repeat on every line of a big file)."""

    __slots__ = ("cache", "charset", "clean", "required", "rule_patterns", "spec")

    def __init__(self, spec, charset):
        self.spec = spec
        self.charset = charset
        self.cache = [set() for _ in spec.elements]
        self.clean = set()  # whole segments already found clean
        self.rule_patterns = {}  # which elements are present -> do the rules hold?
        self.required = tuple(i for i, e in enumerate(spec.elements) if e.required)

    def check(self, raw, delimiters):
        """Check ``raw`` (``[tag, element1, ...]``).

        :returns: list of ElementFinding (empty when the segment is clean)
        """
        key = tuple(raw)
        if key in self.clean:
            return ()
        elements = raw[1:]
        findings = self._check_elements(elements, delimiters)
        if not findings and len(self.clean) < _CACHE_LIMIT:
            self.clean.add(key)
        return findings

    def _check_elements(self, elements, delimiters):
        specs = self.spec.elements
        findings = []
        cache = self.cache
        count = len(elements)
        while count and not elements[count - 1]:
            count -= 1  # trailing empty elements are allowed to be sent
        if count > len(specs):
            findings.append(
                ElementFinding(
                    len(specs) + 1,
                    "3",
                    f"{count} elements sent, the segment has at most {len(specs)}",
                    value=elements[len(specs)][:99] or None,
                )
            )
        # only the elements sent are looked at (a LIN has 31 positions, usually 3 are used)
        for index in range(min(count, len(specs))):
            value = elements[index]
            if not value:
                continue
            seen = cache[index]
            if value in seen:
                continue
            problems = self._check(specs[index], value, index + 1, delimiters)
            if problems:
                findings.extend(problems)
            elif len(seen) < _CACHE_LIMIT:
                seen.add(value)
        for index in self.required:
            if index >= count or not elements[index]:
                spec = specs[index]
                findings.append(
                    ElementFinding(
                        index + 1, "1", "is mandatory but missing", spec.ref, name=spec.name
                    )
                )
        if self.spec.rules:
            pattern = tuple(map(bool, elements))
            holds = self.rule_patterns.get(pattern)
            if holds is None or not holds:
                rule_findings = self._check_rules(elements)
                if len(self.rule_patterns) < _CACHE_LIMIT:
                    self.rule_patterns[pattern] = not rule_findings
                findings.extend(rule_findings)
        if len(findings) > 1:
            findings.sort(key=lambda finding: finding.position)
        return findings

    def _check(self, spec, value, position, delimiters):
        if spec.components:
            return self._check_composite(spec, value, position, delimiters)
        problem = check_value(spec, value, self.charset)
        if problem is None:
            return ()
        code, detail = problem
        return [ElementFinding(position, code, detail, spec.ref, value[:99], name=spec.name)]

    def _check_composite(self, spec, value, position, delimiters):
        parts = value.split(delimiters.component)
        findings = []
        if len(parts) > len(spec.components):
            findings.append(
                ElementFinding(
                    position,
                    "3",
                    f"{len(parts)} components sent, at most {len(spec.components)}",
                    spec.ref,
                    value[:99],
                    name=spec.name,
                )
            )
        for index, component in enumerate(spec.components):
            part = parts[index] if index < len(parts) else ""
            if not part:
                if component.required:
                    findings.append(
                        ElementFinding(
                            position,
                            "1",
                            f"component {index + 1} ({component.name}) is mandatory but missing",
                            spec.ref,
                            component=index + 1,
                            name=spec.name,
                        )
                    )
                continue
            problem = check_value(component, part, self.charset)
            if problem:
                findings.append(
                    ElementFinding(
                        position,
                        problem[0],
                        f"component {index + 1} ({component.name}): {problem[1]}",
                        component.ref,
                        part[:99],
                        index + 1,
                        spec.name,
                    )
                )
        return findings

    def _check_rules(self, elements):
        findings = []
        specs = self.spec.elements

        def present(position):
            return position <= len(elements) and elements[position - 1] != ""

        def label(position):
            return f"{self.spec.tag}{position:02d}"

        for rule in self.spec.rules:
            positions = rule.positions
            there = [p for p in positions if present(p)]
            missing = [p for p in positions if not present(p)]
            first = positions[0]
            if rule.kind == "P" and there and missing:
                for position in missing:
                    findings.append(
                        ElementFinding(
                            position,
                            "2",
                            f"is required when {', '.join(map(label, there))} is present "
                            f"(all or none of {', '.join(map(label, positions))})",
                            specs[position - 1].ref,
                            name=specs[position - 1].name,
                        )
                    )
            elif rule.kind == "R" and not there:
                findings.append(
                    ElementFinding(
                        first,
                        "2",
                        f"at least one of {', '.join(map(label, positions))} is required",
                        specs[first - 1].ref,
                        name=specs[first - 1].name,
                    )
                )
            elif rule.kind == "E" and len(there) > 1:
                findings.append(
                    ElementFinding(
                        there[1],
                        "10",
                        f"only one of {', '.join(map(label, positions))} may be present",
                        specs[there[1] - 1].ref,
                        elements[there[1] - 1][:99],
                        name=specs[there[1] - 1].name,
                    )
                )
            elif rule.kind == "C" and present(first):
                for position in missing:
                    findings.append(
                        ElementFinding(
                            position,
                            "2",
                            f"is required when {label(first)} is present",
                            specs[position - 1].ref,
                            name=specs[position - 1].name,
                        )
                    )
            elif rule.kind == "L" and present(first) and len(there) == 1:
                others = ", ".join(map(label, positions[1:]))
                findings.append(
                    ElementFinding(
                        positions[1],
                        "2",
                        f"one of {others} is required when {label(first)} is present",
                        specs[positions[1] - 1].ref,
                        name=specs[positions[1] - 1].name,
                    )
                )
        return findings


def _tags_within(children):
    tags = set()
    for child in children:
        if isinstance(child, LoopSpec):
            tags |= _tags_within(child.children)
        else:
            tags.add(child.tag)
    return tags


# per tuple of loop children (specs live as long as the process): where each tag starts,
# and which children are mandatory
_POSITIONS = {}
_REQUIRED = {}


def _positions(children):
    """{tag: (indexes of the children it starts)} of one loop's children, cached."""
    key = id(children)
    found = _POSITIONS.get(key)
    if found is None or found[0] is not children:
        positions = {}
        for index, child in enumerate(children):
            tag = child.trigger if isinstance(child, LoopSpec) else child.tag
            positions.setdefault(tag, []).append(index)
        found = _POSITIONS[key] = (children, {t: tuple(i) for t, i in positions.items()})
        _REQUIRED[key] = tuple(i for i, child in enumerate(children) if child.required)
    return found[1]


class _Frame:
    """An open loop instance: ``index`` is the slot last matched, ``count`` its uses (or,
    for a child loop slot, how many instances of it were opened)."""

    __slots__ = ("children", "count", "first", "index", "kids", "loop", "positions", "required")

    def __init__(self, loop, children, index=-1, count=0):
        self.loop = loop  # LoopSpec, or None for the set's body
        self.children = children
        self.index = index
        self.count = count
        positions = _POSITIONS.get(id(children))
        self.positions = (
            positions[1] if positions and positions[0] is children else _positions(children)
        )
        # a loop's trigger segment opens a new instance: it is matched one level up
        self.first = 0 if loop is None else 1
        required = _REQUIRED[id(children)]
        # a loop's trigger is always there once the loop is open: only the rest can be missing
        self.required = required[1:] if loop is not None and required[:1] == (0,) else required
        self.kids = {}  # frames of the child loops opened before, reused by the next instance


class SetValidator:
    """Validate one transaction set, segment by segment (ST and SE excluded)."""

    def __init__(self, spec, result, delimiters, known_tags, checkers, rules=DEFAULT_RULES):
        self.spec = spec
        self.result = result
        self.delimiters = delimiters
        self.known_tags = known_tags
        self.checkers = checkers
        self.rules = rules
        self.stack = [_Frame(None, spec.body)]
        self.all_tags = spec.tags()

    def _finding(self, tag, position, code, detail, number, elements=()):
        finding = SegmentFinding(tag, position, code, detail, number, elements=list(elements))
        tolerated = self.rules.tolerated
        if tolerated:
            codes = {f"AK3:{code}"} if not elements else {f"AK4:{e.code}" for e in elements}
            finding.tolerated = codes <= tolerated
        self.result.add(finding)

    def _missing(self, children, start, stop, position, number, before):
        """Report mandatory slots in ``children[start:stop]`` as missing (seen when
        segment ``before`` came)."""
        for index in _REQUIRED[id(children)]:
            if index < start or (stop is not None and index >= stop):
                continue
            child = children[index]
            where = f"before {before}"
            if child.required:
                tag = child.trigger if isinstance(child, LoopSpec) else child.tag
                what = f"the {tag} loop" if isinstance(child, LoopSpec) else f"segment {tag}"
                self._finding(
                    tag,
                    position,
                    "3",
                    f"{what} is mandatory but missing (expected {where})",
                    number,
                )

    def feed(self, raw, position, number):
        """Check segment ``raw`` (``[tag, element1, ...]``) at ``position`` (counted from
        ST = 1), the ``number``-th segment of the file."""
        tag = raw[0]
        if self._place(tag, position, number):
            checker = self.checkers.get(tag)
            if checker is None:
                checker = self.checkers[tag] = SegmentChecker(
                    self.spec.segments[tag], self.rules.charset
                )
            elif tuple(raw) in checker.clean:
                return  # the very same segment was already found clean
            element_findings = checker.check(raw, self.delimiters)
            if element_findings:
                self._finding(
                    tag,
                    position,
                    "8",
                    describe_segment_code("8"),
                    number,
                    element_findings,
                )

    def _place(self, tag, position, number):
        stack = self.stack
        for depth in range(len(stack) - 1, -1, -1):
            frame = stack[depth]
            indexes = frame.positions.get(tag)
            if indexes is None:
                continue
            start = frame.index if frame.index > frame.first else frame.first
            for index in indexes:
                if index >= start:
                    break
            else:
                continue
            children = frame.children
            child = children[index]
            is_loop = child.__class__ is LoopSpec
            reuse = None
            if len(stack) > depth + 1:
                # close the loops opened inside this frame
                for inner in reversed(stack[depth + 1 :]):
                    if inner.required:
                        self._missing(inner.children, inner.index + 1, None, position, number, tag)
                if is_loop and index == frame.index:
                    reuse = stack[depth + 1]  # the previous instance of this very loop
                del stack[depth + 1 :]
            if index == frame.index:
                frame.count += 1
                limit = child.max_repeat if is_loop else child.max_use
                if frame.count > limit:
                    if is_loop:
                        self._finding(
                            tag,
                            position,
                            "4",
                            f"the {tag} loop occurs {frame.count} times, at most {limit}",
                            number,
                        )
                    else:
                        self._finding(
                            tag,
                            position,
                            "5",
                            f"segment {tag} is used {frame.count} times here, at most {limit}",
                            number,
                        )
            else:
                self._missing(children, frame.index + 1, index, position, number, tag)
                frame.index = index
                frame.count = 1
            if is_loop:
                if reuse is None:
                    reuse = frame.kids.get(index)
                    if reuse is None:
                        reuse = frame.kids[index] = _Frame(child, child.children, 0, 1)
                reuse.index, reuse.count = 0, 1
                stack.append(reuse)
            return True
        self._misplaced(tag, position, number)
        return False

    def _misplaced(self, tag, position, number):
        if not _TAG.match(tag) or tag not in self.known_tags:
            code, detail = "1", f"{tag!r} is not a segment this engine knows"
        elif tag not in self.all_tags:
            code = "6"
            detail = f"segment {tag} is not part of transaction set {self.spec.set_id}"
        elif any(
            tag in _tags_within(frame.children[: max(frame.index, 0)]) for frame in self.stack
        ):
            code = "7"
            detail = f"segment {tag} comes too late: it belongs before the segments already read"
        else:
            code = "2"
            detail = f"segment {tag} is not expected here (it belongs in another loop)"
        self._finding(tag, position, code, detail, number)

    def close(self, position, number):
        """At the SE: everything mandatory still open is missing."""
        for frame in reversed(self.stack):
            self._missing(frame.children, frame.index + 1, None, position, number, "SE")
        self.stack = self.stack[:1]


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

        def close_set(trailer=None):
            nonlocal result, validator, segments
            parsed = None
            if result is not None:
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
                            (
                                "3",
                                f"SE02 is {control!r} but ST02 is {result.control_number!r}",
                            )
                        )
                parsed = ParsedSet(interchange, group, result, segments)
            result = validator = segments = None
            return parsed

        def close_group(trailer=None):
            nonlocal group
            if group is None:
                return
            if trailer is None:
                group.group_errors.append(("3", "the group ends without its GE trailer"))
            else:
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
            group = None

        def close_interchange(trailer=None):
            nonlocal interchange
            if interchange is None:
                return
            if trailer is None:
                interchange.notes.append(
                    ("023", "the file ends (or a new ISA starts) before this interchange's IEA")
                )
            else:
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
            interchange = None

        number = 0
        try:
            for raw in iter_raw_segments(self.source):
                number += 1
                if result is not None and raw.__class__ is list and raw[0] not in _ENVELOPE_TAGS:
                    # the hot path: a segment inside a transaction set
                    position += 1
                    if keep:
                        segments.append(Segment(raw[0], raw[1:], number))
                    if validator is not None:
                        validator.feed(raw, position, number)
                    continue
                if raw.__class__ is list:
                    segment = Segment(raw[0], raw[1:], number)
                else:
                    segment = raw
                    segment.number = number
                tag = segment.tag
                if tag == "ISA":
                    parsed = close_set()
                    if parsed:
                        yield parsed
                    close_group()
                    close_interchange()
                    interchange = InterchangeResult(
                        segment.elements, segment.delimiters, segment.number
                    )
                    report.interchanges.append(interchange)
                    self._check_isa(interchange, seen_interchanges)
                    seen_groups = set()
                    continue
                if interchange is None:
                    # the tokenizer only yields segments after an ISA; cannot happen
                    raise UnreadableFile(f"segment {tag} outside an interchange")
                if tag == "IEA":
                    parsed = close_set()
                    if parsed:
                        yield parsed
                    close_group()
                    close_interchange(segment)
                    continue
                if tag == "GS":
                    parsed = close_set()
                    if parsed:
                        yield parsed
                    if group is not None:
                        close_group()
                    group = self._open_group(segment, interchange, seen_groups)
                    seen_sets = set()
                    continue
                if tag == "GE":
                    parsed = close_set()
                    if parsed:
                        yield parsed
                    if group is None:
                        interchange.notes.append(
                            ("022", f"GE at segment {segment.number} without a GS before it")
                        )
                    else:
                        close_group(segment)
                    continue
                if group is None and tag == "TA1":
                    continue  # an interchange acknowledgement travels outside groups
                if group is None:
                    interchange.notes.append(
                        (
                            "024",
                            f"segment {tag} at segment {segment.number} of the file is outside "
                            "a functional group (GS ... GE)",
                        )
                    )
                    continue
                if tag == "ST":
                    parsed = close_set()
                    if parsed:
                        yield parsed
                    position = 1
                    result, validator = self._open_set(segment, group, interchange, seen_sets)
                    segments = [segment] if keep else None
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
                    parsed = close_set(segment)
                    yield parsed
                    continue
                # a segment between sets
                group.group_errors.append(
                    (
                        "5",
                        f"segment {tag} at segment {segment.number} of the file is outside a "
                        "transaction set (ST ... SE)",
                    )
                )
        except UnreadableFile as error:
            report.unreadable = str(error)
        if not report.interchanges and not report.unreadable:
            report.unreadable = "the file holds no interchange (it is empty or blank)"
        parsed = close_set()
        if parsed:
            yield parsed
        close_group()
        close_interchange()

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
        if not _valid_date(isa[8]):
            notes.append(("014", f"ISA09 {isa[8]!r} is not a date (YYMMDD)"))
        if not _valid_time(isa[9]):
            notes.append(("015", f"ISA10 {isa[9]!r} is not a time (HHMM)"))
        if isa[11] < "00501" and isa[10] != "U":
            notes.append(("016", f"ISA11 must be 'U' in version {isa[11]}, found {isa[10]!r}"))
        if not isa[11].isdigit() or isa[11] not in ("00401", "00501"):
            notes.append(("017", f"ISA12 {isa[11]!r}: this engine reads versions 00401 and 00501"))
        if not isa[12].isdigit():
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
        if not control.isdigit() or len(control) > 9:
            errors.append(("6", f"GS06 {control!r} must be a number of at most 9 digits"))
        elif control in seen:
            errors.append(("6", f"GS06 {control} is used twice in this interchange"))
        seen.add(control)
        if not _valid_date(element(4)) or len(element(4)) != 8:
            interchange.notes.append(("024", f"GS04 {element(4)!r} is not a date (CCYYMMDD)"))
        if not _valid_time(element(5)):
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
                checkers = self._checkers.setdefault((set_id, group.version), {})
                validator = SetValidator(
                    spec, result, interchange.delimiters, self._known_tags, checkers, self.rules
                )
        return result, validator


def validate(source, **options):
    """Validate a whole file; returns its Report (see ``X12Reader`` for the options)."""
    return X12Reader(source, keep_segments=False, **options).run()
