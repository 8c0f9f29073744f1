"""Element checks: type (AN, ID, Nn, R, DT, TM), length, character set, code list and the
relational syntax rules of a segment, with the 997 element error codes (AK403)."""

import datetime
import re

from .charset import EXTENDED, INVALID_CHARACTER, describe_character
from .report import ElementFinding

_NUMERIC = re.compile(r"-?\d+\Z")
_DECIMAL = re.compile(r"-?(?:\d+\.?\d*|\.\d+)\Z")
# values (and whole segments) remembered as valid per segment spec: qualifiers and units repeat
# on every line of a big file; bounded so a file of unique values cannot grow them for ever
CACHE_LIMIT = 4096


def valid_date(value):
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


def valid_time(value):
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
        if not valid_date(value):
            return "8", f"{value!r} is not a valid date (CCYYMMDD)"
        length = len(value)
    elif kind == "TM":
        if not valid_time(value):
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
        if not findings and len(self.clean) < CACHE_LIMIT:
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
            elif len(seen) < CACHE_LIMIT:
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
                if len(self.rule_patterns) < CACHE_LIMIT:
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
