"""Declarative specifications of transaction sets, and partner restrictions on top.

A specification is data: a dictionary of segments (their elements with type, lengths,
requirement and code list, and relational syntax rules such as "P0304") and, per
transaction set and version, the order of segments and loops with their repeat limits.
A partner's implementation guide narrows the standard: ``PartnerRules`` restrict code lists,
make optional segments or elements mandatory and choose the character set; ``Registry``
compiles the combination once and caches it.
"""

from dataclasses import dataclass, field, replace

from .charset import EXTENDED

ELEMENT_TYPES = ("AN", "ID", "R", "DT", "TM", *(f"N{digit}" for digit in range(10)))


@dataclass(frozen=True)
class ElementSpec:
    """One simple element, or a composite when ``components`` is set."""

    ref: int | None
    name: str
    type: str = "AN"
    min_length: int = 1
    max_length: int = 1
    required: bool = False
    codes: frozenset | None = None
    components: tuple = ()

    def __post_init__(self):
        if not self.components and self.type not in ELEMENT_TYPES:
            raise ValueError(f"unknown element type {self.type!r} for {self.name}")

    @property
    def decimals(self):
        """Implied decimal places of an Nn element, else None."""
        return int(self.type[1]) if self.type[0] == "N" else None


@dataclass(frozen=True)
class SyntaxRule:
    """A relational condition between elements of one segment (X12 syntax notes).

    P paired (all or none), R at least one required, E at most one (exclusion),
    C if the first is present all others are required, L if the first is present at least
    one of the others is required.
    """

    kind: str
    positions: tuple

    @classmethod
    def parse(cls, text):
        """``"P0304"`` -> SyntaxRule("P", (3, 4))."""
        kind, digits = text[0], text[1:]
        if kind not in "PRECL" or len(digits) % 2 or len(digits) < 4:
            raise ValueError(f"malformed syntax rule {text!r}")
        return cls(kind, tuple(int(digits[i : i + 2]) for i in range(0, len(digits), 2)))

    def __str__(self):
        return self.kind + "".join(f"{p:02d}" for p in self.positions)


@dataclass(frozen=True)
class SegmentSpec:
    tag: str
    name: str
    elements: tuple
    rules: tuple = ()


@dataclass(frozen=True)
class SegmentUse:
    """A segment's place in a set: mandatory or not, how often it may repeat."""

    tag: str
    required: bool = False
    max_use: int = 1


@dataclass(frozen=True)
class LoopSpec:
    """A loop: ``children[0]`` is its trigger segment; ``name`` is for plain words."""

    name: str
    children: tuple
    required: bool = False
    max_repeat: int = 1

    @property
    def trigger(self):
        return self.children[0].tag


@dataclass(frozen=True)
class SetSpec:
    """A transaction set in one version: its body (between ST and SE) is a root loop."""

    set_id: str
    version: str
    functional_id: str
    name: str
    body: tuple
    segments: dict = field(repr=False, compare=False, default_factory=dict)

    def tags(self):
        """Every segment tag used anywhere in the set (ST and SE included)."""
        found = {"ST", "SE"}

        def walk(children):
            for child in children:
                if isinstance(child, LoopSpec):
                    walk(child.children)
                else:
                    found.add(child.tag)

        walk(self.body)
        return found


# --- the small language the dictionaries and sets are written in ---------------------


def E(ref, name, type_="AN", min_length=1, max_length=None, required=False, codes=None):
    """An element: ``E(473, "Order Status Code", "ID", 1, 1, True, "N F R")``."""
    if isinstance(codes, str):
        codes = codes.split()
    return ElementSpec(
        ref,
        name,
        type_,
        min_length,
        max_length if max_length is not None else min_length,
        required,
        frozenset(codes) if codes else None,
    )


def M(ref, name, type_="AN", min_length=1, max_length=None, codes=None):
    """A mandatory element."""
    return E(ref, name, type_, min_length, max_length, True, codes)


def COMPOSITE(ref, name, *components, required=False):
    return ElementSpec(ref, name, "AN", 0, 0, required, None, tuple(components))


def SEG(tag, name, *elements, rules=""):
    return SegmentSpec(
        tag, name, tuple(elements), tuple(SyntaxRule.parse(r) for r in rules.split())
    )


def S(tag, min_use=0, max_use=1):
    """A segment in a set: ``S("W05", 1)`` mandatory once, ``S("N9", 0, 10)``."""
    return SegmentUse(tag, bool(min_use), max_use)


def LOOP(min_repeat, max_repeat, trigger, *children):
    """A loop: ``LOOP(1, 10, S("N1", 1), S("N2", 0, 2), ...)``."""
    return LoopSpec(trigger.tag, (trigger, *children), bool(min_repeat), max_repeat)


# --- partner restrictions ---------------------------------------------------------------


@dataclass(frozen=True)
class PartnerRules:
    """What a partner's implementation guide narrows or tolerates.

    :param charset: "basic" or "extended" character set in elements
    :param code_lists: {"W12-01": ["CC", "BP"]} only these codes (also for AN elements)
    :param required: ["W27", "W05-03", "945:W27"] segments (or elements) made mandatory,
        optionally only in one set
    :param tolerated: AK3/AK4 codes that only make a set "accepted with errors" instead of
        rejected, e.g. {"AK4:5"} for values longer than the standard allows
    :param versions: GS08 versions accepted
    """

    charset: str = EXTENDED
    code_lists: dict = field(default_factory=dict)
    required: tuple = ()
    tolerated: frozenset = frozenset()
    versions: tuple = ("004010",)

    @classmethod
    def from_dict(cls, data):
        """Build from JSON-like configuration (e.g. a partner record's settings)."""
        data = dict(data or {})
        return cls(
            charset=data.get("charset", EXTENDED),
            code_lists={k: tuple(v) for k, v in (data.get("code_lists") or {}).items()},
            required=tuple(data.get("required") or ()),
            tolerated=frozenset(data.get("tolerated") or ()),
            versions=tuple(data.get("versions") or ("004010",)),
        )

    def key(self):
        return (
            self.charset,
            tuple(sorted((k, tuple(v)) for k, v in self.code_lists.items())),
            tuple(self.required),
            tuple(sorted(self.tolerated)),
            tuple(self.versions),
        )


DEFAULT_RULES = PartnerRules()


class Registry:
    """Transaction set specifications by (set id, version), compiled with partner rules."""

    def __init__(self):
        self._sets = {}
        self._compiled = {}

    def register(self, spec):
        self._sets[(spec.set_id, spec.version)] = spec
        self._compiled.clear()

    def find(self, set_id, version):
        """The spec for ``set_id`` in ``version`` (GS08); "004010VICS" falls back to
        "004010"."""
        spec = self._sets.get((set_id, version))
        if spec is None and version and len(version) > 6:
            spec = self._sets.get((set_id, version[:6]))
        return spec

    def versions(self):
        return {version for _set_id, version in self._sets}

    def set_ids(self, version=None):
        return sorted(s for s, v in self._sets if version is None or v == version)

    def known_tags(self):
        tags = set()
        for spec in self._sets.values():
            tags.update(spec.segments)
        return tags

    def compiled(self, set_id, version, rules=DEFAULT_RULES):
        """The spec with the partner's restrictions applied, or None if unknown."""
        key = (set_id, version, rules.key())
        if key not in self._compiled:
            spec = self.find(set_id, version)
            self._compiled[key] = spec and apply_rules(spec, rules)
        return self._compiled[key]


def derive(spec, version=None, segments=None, body=None):
    """A copy of ``spec`` for another version or with changed segments/structure, e.g.
    the 005010 edition of a set that differs in a few elements."""
    merged = dict(spec.segments)
    merged.update(segments or {})
    return replace(
        spec,
        version=version or spec.version,
        segments=merged,
        body=body if body is not None else spec.body,
    )


# --- versions derived from another ----------------------------------------------------


@dataclass(frozen=True)
class SegmentChange:
    """How a later version changes one segment: elements added after its last one,
    positions redefined (``((position, ElementSpec), ...)``, 1-based), components added
    after the last one of a composite (``((position, (ElementSpec, ...)), ...)``), syntax
    rules added (``"C0704"``)."""

    added: tuple = ()
    replaced: tuple = ()
    components: tuple = ()
    rules: str = ""


@dataclass(frozen=True)
class VersionChanges:
    """What ``version`` changes against the version its sets are derived from.

    :param elements: attributes of data elements by their number, wherever the element is
        used, also inside composites: ``{127: {"max_length": 50}}``
    :param segments: ``{tag: SegmentChange}``
    """

    version: str
    elements: dict = field(default_factory=dict)
    segments: dict = field(default_factory=dict)

    def segment(self, segment):
        """``segment`` (a SegmentSpec) as this version defines it."""

        def element(spec):
            if spec.components:
                spec = replace(spec, components=tuple(map(element, spec.components)))
            attributes = self.elements.get(spec.ref)
            if attributes:
                codes = attributes.get("codes")
                if codes is not None:
                    codes = codes.split() if isinstance(codes, str) else codes
                    attributes = {**attributes, "codes": frozenset(codes)}
                spec = replace(spec, **attributes)
            return spec

        elements = list(map(element, segment.elements))
        rules = segment.rules
        change = self.segments.get(segment.tag)
        if change is not None:
            for position, spec in change.replaced:
                elements[position - 1] = element(spec)
            for position, components in change.components:
                composite = elements[position - 1]
                elements[position - 1] = replace(
                    composite, components=(*composite.components, *map(element, components))
                )
            elements.extend(map(element, change.added))
            rules += tuple(SyntaxRule.parse(r) for r in change.rules.split())
        elements = tuple(elements)
        if elements == segment.elements and rules == segment.rules:
            return segment
        return replace(segment, elements=elements, rules=rules)

    def apply(self, spec):
        """The edition of set ``spec`` in this version: the same structure, the segments
        this version changes replaced."""
        changed = {}
        for tag, segment in spec.segments.items():
            edited = self.segment(segment)
            if edited is not segment:
                changed[tag] = edited
        return derive(spec, self.version, segments=changed)


def apply_rules(spec, rules):
    """``spec`` with ``rules`` layered on top (restricted codes, extra mandatory parts)."""
    segments = dict(spec.segments)
    required_segments = set()
    for item in rules.required:
        set_id, _, target = item.rpartition(":")
        if set_id and set_id != spec.set_id:
            continue
        tag, _, position = target.partition("-")
        if position:
            segment = segments.get(tag)
            if segment is None:
                continue
            index = int(position) - 1
            elements = list(segment.elements)
            if index < len(elements):
                elements[index] = replace(elements[index], required=True)
            segments[tag] = replace(segment, elements=tuple(elements))
        else:
            required_segments.add(tag)
    for target, codes in rules.code_lists.items():
        tag, _, position = target.partition("-")
        segment = segments.get(tag)
        if segment is None or not position:
            continue
        index = int(position) - 1
        elements = list(segment.elements)
        if index < len(elements):
            elements[index] = replace(elements[index], codes=frozenset(codes))
            segments[tag] = replace(segment, elements=tuple(elements))

    def narrow(children):
        out = []
        for child in children:
            if isinstance(child, LoopSpec):
                trigger_required = child.trigger in required_segments
                out.append(
                    replace(
                        child,
                        children=tuple(narrow(child.children)),
                        required=child.required or trigger_required,
                    )
                )
            elif child.tag in required_segments:
                out.append(replace(child, required=True))
            else:
                out.append(child)
        return tuple(out)

    return replace(spec, body=narrow(spec.body), segments=segments)
