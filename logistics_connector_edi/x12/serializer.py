"""Write X12: the fixed-width ISA, envelopes with correct counts, chosen separators.

Outbound documents are plain objects (``Interchange`` > ``FunctionalGroup`` >
``TransactionSet`` with segments as ``(tag, [elements])``); ST/SE, GS/GE and ISA/IEA are
written here, so counts and control numbers cannot disagree. Element text must fit the X12
character set and must not contain a separator: a problem is reported, never patched over.
"""

import datetime
from dataclasses import dataclass, field

from .charset import EXTENDED, INVALID_CHARACTER, describe_character, transliterate
from .errors import SerializationError
from .tokenizer import Delimiters

LINE_BREAK_CHOICES = {"none": "", "lf": "\n", "crlf": "\r\n"}
# the repetition separator (ISA11) of a 00501 interchange when none is configured
REPETITION_CANDIDATES = "^|!{}"


class _Label:
    """Where an element is, put in words only when a problem must name it."""

    __slots__ = ("component", "position", "tag", "where")

    def __init__(self, where, tag, position, component=None):
        self.where, self.tag, self.position, self.component = where, tag, position, component

    def __str__(self):
        where = self.where
        if isinstance(where, tuple):
            tag, index, set_id, control = where
            where = f"{tag} at position {index} of set {set_id} {control}"
        text = f"{where}, element {self.tag}{self.position:02d}"
        return f"{text}-{self.component}" if self.component else text


@dataclass
class TransactionSet:
    set_id: str
    control_number: int | str
    segments: list = field(default_factory=list)  # [(tag, [element, ...]), ...]


@dataclass
class FunctionalGroup:
    functional_id: str
    sender_code: str
    receiver_code: str
    control_number: int
    version: str = "004010"
    sets: list = field(default_factory=list)
    date: datetime.datetime | None = None


@dataclass
class Interchange:
    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    control_number: int
    usage: str = "P"  # ISA15: P production, T test
    ack_requested: bool = False
    # ISA12; None: 00501 when a group is in version 005010 or later, else 00401
    version: str | None = None
    groups: list = field(default_factory=list)
    # segments written between the ISA and the first GS (TA1 acknowledgements)
    interchange_segments: list = field(default_factory=list)
    date: datetime.datetime | None = None
    authorization: tuple = ("00", "")
    security: tuple = ("00", "")


def interchange_version(interchange):
    """ISA12 of ``interchange``: its own, or 00501 when one of its groups is in version
    005010 or later (a 005010 group travels in a 00501 envelope), else 00401."""
    if interchange.version:
        return interchange.version
    if any((group.version or "") >= "005010" for group in interchange.groups):
        return "00501"
    return "00401"


def format_number(value, decimals=0):
    """An Nn element: ``format_number(12.5, 2)`` -> "1250" (implied decimals)."""
    return str(round(float(value) * 10**decimals))


def format_decimal(value, max_length=15):
    """An R element: no trailing zeros, no exponent, e.g. 2.50 -> "2.5", 3.0 -> "3"."""
    text = f"{float(value):.6f}".rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text[: max_length + ("." in text) + text.startswith("-")]


class Serializer:
    """Write interchanges with ``delimiters`` and ``line_break`` after each terminator.

    :param charset: "basic" or "extended": elements outside it are refused
    :param transliterate: fold accented letters (é -> e) first, when the partner agreed
    """

    def __init__(self, delimiters=None, line_break="\n", charset=EXTENDED, transliterate=False):
        self.delimiters = delimiters or Delimiters()
        self.line_break = line_break
        self.charset = charset
        self.transliterate = transliterate
        separators = self.delimiters.all()
        if len(separators) != len(
            [
                c
                for c in (
                    self.delimiters.element,
                    self.delimiters.component,
                    self.delimiters.segment,
                    self.delimiters.repetition,
                )
                if c
            ]
        ):
            raise SerializationError("the separators must all be different characters")
        for char in separators:
            if char.isalnum() or len(char) != 1:
                raise SerializationError(f"{char!r} cannot be a separator")
        self._invalid = INVALID_CHARACTER[charset]
        self._active = None
        self._use(self.delimiters)

    def _use(self, delimiters):
        """Write with ``delimiters`` from now on."""
        if delimiters != self._active:
            self._active = delimiters
            self._separators = tuple(delimiters.all())
            self._clean = {""}  # values already checked (units, qualifiers repeat on every line)
            self._end = delimiters.segment + self.line_break

    def _delimiters_for(self, version):
        """The separators of an interchange in ISA12 ``version``: from 00501 on one is the
        repetition separator; "^" (or another special character still free) when none was
        configured."""
        d = self.delimiters
        if version < "00501" or d.repetition:
            return d
        taken = d.all()
        free = next(c for c in REPETITION_CANDIDATES if c not in taken)
        return Delimiters(d.element, d.component, d.segment, free)

    # --- public API ------------------------------------------------------------------

    def serialize(self, interchange):
        """The interchange as text."""
        return "".join(self.iter_serialize(interchange))

    def iter_serialize(self, interchange):
        """The interchange as pieces of text (one per segment), for streaming writes."""
        problems = []
        now = interchange.date or datetime.datetime.now(datetime.timezone.utc)
        version = interchange_version(interchange)
        self._use(self._delimiters_for(version))
        yield self._isa(interchange, version, now, problems)
        for tag, elements in interchange.interchange_segments:
            yield self._segment(tag, elements, problems, f"{tag} (interchange level)")
        for group in interchange.groups:
            group_date = group.date or now
            yield self._segment(
                "GS",
                [
                    group.functional_id,
                    group.sender_code,
                    group.receiver_code,
                    group_date.strftime("%Y%m%d"),
                    group_date.strftime("%H%M"),
                    str(int(group.control_number)),
                    "X",
                    group.version,
                ],
                problems,
                "GS",
            )
            for transaction in group.sets:
                control = str(transaction.control_number).zfill(4)
                yield self._segment("ST", [transaction.set_id, control], problems, "ST")
                for index, (tag, elements) in enumerate(transaction.segments, start=2):
                    yield self._segment(
                        tag,
                        elements,
                        problems,
                        (tag, index, transaction.set_id, control),
                    )
                count = len(transaction.segments) + 2
                yield self._segment("SE", [str(count), control], problems, "SE")
            yield self._segment(
                "GE", [str(len(group.sets)), str(int(group.control_number))], problems, "GE"
            )
        yield self._segment(
            "IEA",
            [str(len(interchange.groups)), str(int(interchange.control_number)).zfill(9)],
            problems,
            "IEA",
        )
        if problems:
            raise SerializationError(
                "the document cannot be written as X12: " + "; ".join(problems[:5]),
                problems=problems,
            )

    # --- pieces ----------------------------------------------------------------------

    def _isa(self, interchange, version, now, problems):
        d = self._active
        standards = d.repetition if version >= "00501" else "U"
        control = str(int(interchange.control_number))
        if len(control) > 9:
            problems.append(f"ISA13 {control} has more than 9 digits")
        fields = [
            (interchange.authorization[0], 2),
            (interchange.authorization[1], 10),
            (interchange.security[0], 2),
            (interchange.security[1], 10),
            (interchange.sender_qualifier, 2),
            (interchange.sender_id, 15),
            (interchange.receiver_qualifier, 2),
            (interchange.receiver_id, 15),
            (now.strftime("%y%m%d"), 6),
            (now.strftime("%H%M"), 4),
            (standards, 1),
            (version, 5),
            (control.zfill(9), 9),
            ("1" if interchange.ack_requested else "0", 1),
            (interchange.usage, 1),
        ]
        values = []
        for index, (value, width) in enumerate(fields, start=1):
            value = value or ""
            if len(value) > width:
                problems.append(f"ISA{index:02d} {value!r} is longer than {width} characters")
            if index != 11:  # ISA11 may be the repetition separator itself
                self._check_text(value, f"ISA{index:02d}", problems)
            values.append(value.ljust(width)[:width])
        if interchange.usage not in ("P", "T"):
            problems.append(f"ISA15 must be P or T, not {interchange.usage!r}")
        return d.element.join(["ISA", *values, d.component]) + d.segment + self.line_break

    def _segment(self, tag, elements, problems, where):
        """One segment as text. ``where`` names it in problems: a string, or a callable
        that makes the string (only needed when something is wrong)."""
        d = self._active
        clean = self._clean
        if None in elements:
            elements = ["" if value is None else value for value in elements]
        try:
            # the usual case: every value a text already found writable (composites are
            # lists, which a set cannot hold: they take the long way)
            known = clean.issuperset(elements)
        except TypeError:
            known = False
        if known:
            # no value holds a separator: trailing separators are the empty elements
            return d.element.join([tag, *elements]).rstrip(d.element) + self._end
        texts = []
        for position, value in enumerate(elements, start=1):
            if value is None:
                texts.append("")
            elif isinstance(value, list | tuple):
                components = ["" if c is None else str(c) for c in value]
                for index, component in enumerate(components, start=1):
                    if component not in clean:
                        components[index - 1] = self._check_text(
                            component, _Label(where, tag, position, index), problems
                        )
                while components and not components[-1]:
                    components.pop()
                texts.append(d.component.join(components))
            else:
                value = value if value.__class__ is str else str(value)
                if value not in clean:
                    value = self._check_text(value, _Label(where, tag, position), problems)
                texts.append(value)
        while texts and not texts[-1]:
            texts.pop()
        return d.element.join([tag, *texts]) + d.segment + self.line_break

    def _check_text(self, value, label, problems):
        if value in self._clean:
            return value
        if self.transliterate and not value.isascii():
            value = transliterate(value)
        bad = self._invalid.search(value)
        clean = bad is None
        if bad is not None:
            bad = bad.group()
            problems.append(
                f"{label}: {describe_character(bad)} in {value!r} is outside the X12 "
                f"{self.charset} character set"
            )
        for separator in self._separators:
            if separator in value:
                clean = False
                problems.append(f"{label}: {value!r} contains the separator {separator!r}")
        if clean and len(self._clean) < 4096:
            self._clean.add(value)
        return value
