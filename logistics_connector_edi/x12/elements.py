"""Element checks: type (AN, ID, Nn, R, DT, TM), length, character set, code list and the
relational syntax rules of a segment, with the 997 element error codes (AK403)."""

import datetime
import functools
import re

from .charset import EXTENDED, INVALID_CHARACTER, describe_character
from .report import ElementFinding

# ASCII digits only: str.isdigit() and \d also take other scripts' digits, which X12 has not
_NUMERIC = re.compile(r"-?[0-9]+\Z")
_DECIMAL = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)\Z")
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
    return value.isascii() and value.isdigit()


def valid_time(value):
    if not (value.isascii() and value.isdigit()) or len(value) < 4 or len(value) == 5:
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

    __slots__ = (
        "cache",
        "charset",
        "clean",
        "repetition_code",
        "required",
        "rule_patterns",
        "spec",
    )

    def __init__(self, spec, charset, repetition_code="6"):
        self.spec = spec
        self.charset = charset
        # AK403 of a value holding the interchange's repetition separator (00501 on): none
        # of these elements repeats; 005010 has a code for it (12 too many repetitions),
        # 004010 sees a separator inside data (6 invalid character)
        self.repetition_code = repetition_code
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
        repetition = delimiters.repetition
        if repetition and repetition in value:
            return [
                ElementFinding(
                    position,
                    self.repetition_code,
                    f"{value[:99]!r} holds the repetition separator {repetition!r}, but "
                    "this element does not repeat",
                    spec.ref,
                    value[:99],
                    name=spec.name,
                )
            ]
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


# --- the fast path: one regular expression per segment spec ------------------------------
#
# A segment whose text matches its expression is clean: every element has the right type,
# length, characters and code, the mandatory ones are there, no element is too many and the
# syntax rules hold. The expression may refuse a clean segment (it is stricter where a
# condition is awkward to write), never accept one with a finding: a segment it refuses goes
# through SegmentChecker, which alone writes findings.

# month and day of a valid date; February 29 only in leap years, written out below
_MONTH_DAY = (
    r"(?:(?:0[13578]|1[02])(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:0[469]|11)(?:0[1-9]|[12][0-9]|30)"
    r"|02(?:0[1-9]|1[0-9]|2[0-8]))"
)
_LEAP_YY = r"(?:0[48]|[2468][048]|[13579][26])"
# CCYYMMDD, year 0001 to 9999 (as datetime.date); YYMMDD is read as 20YY
_DATE8 = (
    rf"(?!0000)(?:[0-9]{{4}}{_MONTH_DAY}"
    rf"|(?:[0-9]{{2}}{_LEAP_YY}|(?:[02468][048]|[13579][26])00)0229)"
)
_DATE6 = rf"(?:[0-9]{{2}}{_MONTH_DAY}|(?:00|{_LEAP_YY})0229)"
_TIME = r"(?:[01][0-9]|2[0-3])[0-5][0-9](?:[0-5][0-9][0-9]*)?"
_NEVER = "(?!)"


def _allowed_class(charset, excluded):
    """A regex character class of the characters ``charset`` allows, minus ``excluded``
    (the separators that end a value). Derived from the same expression check_value uses."""
    invalid = INVALID_CHARACTER[charset]
    chars = [chr(c) for c in range(256) if not invalid.match(chr(c)) and chr(c) not in excluded]
    return "[" + "".join(re.escape(c) for c in chars) + "]"


def _value_pattern(spec, charset, ends, banned=""):
    """The expression of one non-empty simple value ending before one of ``ends`` and
    holding none of ``banned``."""
    end = "(?![^" + "".join(re.escape(c) for c in ends) + "])"
    if spec.codes is not None:
        codes = sorted(
            (
                code
                for code in spec.codes
                if code
                and not any(c in code for c in ends + banned)
                and check_value(spec, code, charset) is None
            ),
            key=lambda code: (-len(code), code),
        )
        if not codes:
            return _NEVER
        return "(?:" + "|".join(re.escape(code) for code in codes) + ")" + end
    low, high = max(spec.min_length, 1), spec.max_length
    if high < low:
        return _NEVER
    kind = spec.type
    if kind in ("AN", "ID"):
        return f"{_allowed_class(charset, ends + banned)}{{{low},{high}}}"
    if kind == "R":
        # a whole number first (the usual case, and cheap); with a decimal point the
        # look-ahead counts the digits around it
        return (
            rf"-?(?:[0-9]{{{low},{high}}}{end}"
            rf"|(?=(?:\.?[0-9]){{{low},{high}}}\.?{end})(?:[0-9]+\.[0-9]*|\.[0-9]+))"
        )
    if kind == "DT":
        forms = [form for form, size in ((_DATE8, 8), (_DATE6, 6)) if low <= size <= high]
        return "(?:" + "|".join(forms) + ")" + end if forms else _NEVER
    if kind == "TM":
        return f"(?=[0-9]{{{low},{high}}}{end}){_TIME}"
    return f"-?[0-9]{{{low},{high}}}"  # Nn


def _nested(pieces, separator, pairs=()):
    """``pieces`` [(expression, required)] as positional slots: each is ``separator`` +
    value (or nothing when optional); the slots after the last mandatory one may be left
    out. ``pairs``: positions p (1-based) whose value must be present exactly when value
    p + 1 is (an "all or none" rule of two neighbours, checked right there: cheaper than a
    condition at the end). Optional parts are written ``(?:...|)``, which the regular
    expression engine runs faster than ``(?:...)?``."""
    tail = ""
    next_present = f"(?={separator}[^{separator}])"
    for index in range(len(pieces) - 1, -1, -1):
        expression, required = pieces[index]
        paired = index + 1 in pairs
        if required:
            slot = expression + (next_present if paired else "")
        elif paired:
            slot = f"(?:{expression}{next_present}|(?!{separator}[^{separator}]))"
        else:
            slot = f"(?:{expression}|)"
        tail = separator + slot + tail
        if not any(r for _e, r in pieces[index:]):
            tail = f"(?:{tail}|)"
    return tail


def _composite_pattern(spec, charset, separator, component, banned=""):
    ends = separator + component
    pieces = [
        (_value_pattern(part, charset, ends, banned), part.required) for part in spec.components
    ]
    first, first_required = pieces[0]
    head = first if first_required else f"(?:{first}|)"
    tail = _nested(pieces[1:], re.escape(component))
    # a composite sent is not empty (an empty element is "not sent", checked elsewhere)
    return f"(?=[^{re.escape(separator)}]){head}{tail}"


def _rule_pattern(rule):
    """A syntax rule as conditionals on the element groups (group n = element n)."""

    def present(p):
        return f"(?({p})|(?!))"

    def absent(p):
        return f"(?({p})(?!)|)"

    def any_of(positions):
        text = "(?!)"
        for p in reversed(positions):
            text = f"(?({p})|{text})"
        return text

    first, others = rule.positions[0], rule.positions[1:]
    if rule.kind == "P":
        return f"(?({first}){''.join(map(present, others))}|{''.join(map(absent, others))})"
    if rule.kind == "R":
        return any_of(rule.positions)
    if rule.kind == "E":
        positions = rule.positions
        return "".join(
            f"(?({a}){absent(b)}|)" for i, a in enumerate(positions) for b in positions[i + 1 :]
        )
    if rule.kind == "C":
        return f"(?({first}){''.join(map(present, others))}|)"
    return f"(?({first}){any_of(others)}|)"  # L


@functools.lru_cache(maxsize=2048)
def segment_matcher(spec, charset, separator, component, repetition=None):
    """``fullmatch`` of the expression of a clean ``spec`` segment (call it with the
    segment text, tag included), or None when the spec has no fast path. A value holding
    ``repetition`` (the interchange's repetition separator) never matches."""
    elements = spec.elements
    if not elements or any(p > len(elements) for rule in spec.rules for p in rule.positions):
        return None
    banned = repetition or ""
    if banned and banned in "-.0123456789":
        return None  # numbers are written without a character check: no fast path
    pieces = []
    for element in elements:
        if element.components:
            value = _composite_pattern(element, charset, separator, component, banned)
        else:
            value = _value_pattern(element, charset, separator, banned)
        pieces.append((f"({value})", element.required))
    sep = re.escape(separator)
    neighbours = [
        rule
        for rule in spec.rules
        if rule.kind == "P" and len(rule.positions) == 2
        if rule.positions[1] == rule.positions[0] + 1
    ]
    others = [rule for rule in spec.rules if rule not in neighbours]
    pairs = {rule.positions[0] for rule in neighbours}
    pattern = (
        re.escape(spec.tag)
        + _nested(pieces, sep, pairs)
        + f"{sep}*"
        + "".join(map(_rule_pattern, others))
    )
    return re.compile(pattern, re.DOTALL).fullmatch
