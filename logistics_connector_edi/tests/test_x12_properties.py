"""Property tests of the X12 engine: what the serializer writes parses back to the same
segments, and no corruption of a file makes the reader crash or pass it silently."""

import datetime
import re
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..x12 import (
    Delimiters,
    FunctionalGroup,
    Interchange,
    Serializer,
    TransactionSet,
    X12Reader,
    build_acknowledgements,
    default_registry,
    validate,
)
from ..x12.charset import EXTENDED_SPECIALS
from ..x12.elements import (
    _DATE6,
    _DATE8,
    _TIME,
    SegmentChecker,
    segment_matcher,
    valid_date,
    valid_time,
)

SEPARATOR_POOL = "*|^~!:>'`{}"
# Deterministic in the suite (the same 60 examples every run, no example database on disk);
# raise max_examples locally to hunt for new cases.
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@st.composite
def delimiters(draw):
    element, component, segment = draw(
        st.lists(st.sampled_from(SEPARATOR_POOL), min_size=3, max_size=3, unique=True)
    )
    return Delimiters(element, component, segment)


def text(delims, min_size=1, max_size=20):
    alphabet = string.ascii_letters + string.digits + " -./&()" + EXTENDED_SPECIALS
    allowed = "".join(c for c in alphabet if c not in delims.all())
    # X12 values carry no leading or trailing blanks in our builders
    return st.text(alphabet=allowed, min_size=min_size, max_size=max_size).map(
        lambda value: value.strip() or "X"
    )


@st.composite
def orders(draw, delims):
    """The segments of a valid 940."""
    order_number = draw(text(delims, 1, 22))
    segments = [("W05", ["N", order_number])]
    if draw(st.booleans()):
        segments.append(("N1", ["ST", draw(text(delims, 1, 60))]))
        segments.append(("N3", [draw(text(delims, 1, 55))]))
    lines = draw(st.integers(min_value=1, max_value=6))
    segments.append(("LX", ["1"]))
    for _ in range(lines):
        quantity = draw(st.integers(min_value=1, max_value=10**6))
        segments.append(("W01", [str(quantity), "EA", None, "SK", draw(text(delims, 1, 48))]))
        if draw(st.booleans()):
            segments.append(("G69", [draw(text(delims, 1, 45))]))
    segments.append(("W76", [str(lines)]))
    return segments


@st.composite
def interchanges(draw):
    delims = draw(delimiters())
    sets = [
        TransactionSet("940", number, draw(orders(delims)))
        for number in range(1, draw(st.integers(min_value=1, max_value=3)) + 1)
    ]
    interchange = Interchange(
        "ZZ",
        "OURCOMPANY",
        "ZZ",
        "PARTNER3PL",
        draw(st.integers(min_value=1, max_value=999_999_999)),
        groups=[FunctionalGroup("OW", "OURCOMPANY", "PARTNER3PL", 1, sets=sets)],
    )
    line_break = draw(st.sampled_from(["", "\n", "\r\n"]))
    return interchange, Serializer(delims, line_break)


@SETTINGS
@given(interchanges())
def test_serialize_then_parse_round_trips(generated):
    interchange, serializer = generated
    text = serializer.serialize(interchange)
    reader = X12Reader(text)
    parsed = list(reader)
    assert reader.report.status == "accepted", reader.report.findings()
    written = interchange.groups[0].sets
    assert len(parsed) == len(written)
    for got, sent in zip(parsed, written, strict=True):
        body = [(s.tag, s.elements) for s in got.segments[1:-1]]
        assert body == [(tag, _written(elements)) for tag, elements in sent.segments]
    assert reader.report.interchanges[0].delimiters == serializer.delimiters


def _written(elements):
    """Elements as they go on the wire: None is empty, trailing empties are dropped."""
    values = ["" if value is None else value for value in elements]
    while values and not values[-1]:
        values.pop()
    return values


CORRUPTIONS = ("flip", "delete", "duplicate", "count", "truncate")


@SETTINGS
@given(interchanges(), st.sampled_from(CORRUPTIONS), st.data())
def test_corruptions_are_reported_never_crash(generated, corruption, data):
    interchange, serializer = generated
    text = serializer.serialize(interchange)
    terminator = serializer.delimiters.segment
    pieces = text.split(terminator)
    # pieces[0] is the ISA; the set bodies sit between the GS (1) and the GE (-3)
    if corruption == "flip":
        raw = bytearray(text.encode())
        index = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
        raw[index] = data.draw(
            st.integers(min_value=0, max_value=255).filter(lambda b: b != raw[index])
        )
        corrupted = bytes(raw)
    elif corruption == "delete":
        index = data.draw(st.integers(min_value=1, max_value=len(pieces) - 2))
        corrupted = terminator.join(pieces[:index] + pieces[index + 1 :])
    elif corruption == "duplicate":
        index = data.draw(st.integers(min_value=1, max_value=len(pieces) - 2))
        corrupted = terminator.join(pieces[: index + 1] + pieces[index:])
    elif corruption == "count":
        element = serializer.delimiters.element
        trailers = [
            i
            for i, p in enumerate(pieces)
            if p.lstrip("\r\n")[:3] in ("SE" + element, "GE" + element, "IEA")
        ]
        index = data.draw(st.sampled_from(trailers))
        tag, count, *rest = pieces[index].split(element)
        pieces[index] = element.join([tag, str(int(count) + data.draw(st.integers(1, 5))), *rest])
        corrupted = terminator.join(pieces)
    else:
        # cut at least into the IEA's control number (a lost terminator alone is tolerated)
        end = len(text.rstrip("\r\n")) - 2
        corrupted = text[: data.draw(st.integers(min_value=0, max_value=end))]

    report = validate(corrupted)
    assert report.status in ("accepted", "accepted_with_errors", "rejected", "unreadable")
    if corruption in ("delete", "duplicate", "count", "truncate"):
        # a lost, doubled or miscounted segment always shows
        assert report.status != "accepted", corruption
        assert report.findings()
    # whatever was read can be acknowledged; the acknowledgement reads back as X12 (and is
    # valid whenever the corruption left the values it repeats intact)
    for reply in build_acknowledgements(report):
        acknowledgement = validate(Serializer().serialize(reply))
        assert acknowledgement.status != "unreadable"
        if corruption != "flip":
            assert acknowledgement.status == "accepted", acknowledgement.findings()


# --- the validator's fast path agrees with the element checks ----------------------------

_REGISTRY = default_registry()
ALL_SEGMENT_SPECS = sorted(
    {
        segment
        for version in sorted(_REGISTRY.versions())
        for set_id in _REGISTRY.set_ids(version)
        for segment in _REGISTRY.find(set_id, version).segments.values()
    },
    key=lambda spec: (spec.tag, len(spec.elements)),
)
JUNK = string.ascii_letters + string.digits + " .-*>^:é\udce9\u0661"


def _simple_value(spec):
    """Values around what ``spec`` allows: valid ones, near misses and junk."""
    low, high = max(spec.min_length, 1), spec.max_length
    digits = st.text("0123456789", min_size=max(low - 1, 0), max_size=high + 1)
    if spec.codes:
        typed = st.sampled_from(sorted(spec.codes))
    elif spec.type in ("AN", "ID"):
        typed = st.text(
            string.ascii_uppercase + string.digits + " -./", min_size=low - 1, max_size=high + 1
        )
    elif spec.type == "DT":
        typed = st.one_of(
            st.dates().map(lambda d: d.strftime("%Y%m%d")),
            st.dates().map(lambda d: d.strftime("%y%m%d")),
            st.sampled_from(["20240229", "20230229", "21000229", "240229", "20251301"]),
        )
    elif spec.type == "TM":
        typed = st.one_of(digits, st.sampled_from(["2359", "2400", "1260", "123456", "12345"]))
    elif spec.type == "R":
        typed = st.one_of(
            digits,
            st.builds(lambda a, b, sign: f"{sign}{a}.{b}", digits, digits, st.sampled_from("-")),
            st.sampled_from([".5", "5.", "-", ".", "1.2.3", "-.5"]),
        )
    else:
        typed = st.one_of(digits, digits.map(lambda d: "-" + d))
    return st.one_of(typed, st.just(""), st.text(JUNK, max_size=6))


def _element_value(spec):
    if not spec.components:
        return _simple_value(spec)
    return st.lists(
        st.one_of(*(_simple_value(c) for c in spec.components[:3])), min_size=1, max_size=4
    ).map(">".join)


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(st.sampled_from(ALL_SEGMENT_SPECS), st.data())
def test_fast_path_accepts_only_clean_segments(spec, data):
    """A segment text the compiled expression accepts has no finding in the element checks
    (the checks write every finding; the expression only spares them work)."""
    count = data.draw(st.integers(min_value=0, max_value=len(spec.elements) + 2))
    values = [
        data.draw(_element_value(spec.elements[i])) if i < len(spec.elements) else ""
        for i in range(count)
    ]
    text = "*".join([spec.tag, *values])
    for charset in ("basic", "extended"):
        for repetition in (None, "^"):  # 00401, 00501 (the repetition separator is no data)
            match = segment_matcher(spec, charset, "*", ">", repetition)
            checker = SegmentChecker(spec, charset)
            findings = checker.check(text.split("*"), Delimiters(repetition=repetition))
            if match is not None and match(text):
                assert not findings, (charset, repetition, text, findings)


def _valid_value(spec):
    """A value ``spec`` allows (or, for a composite, components that each do)."""
    if spec.components:
        parts = [
            _valid_value(c) if c.required else st.one_of(st.just(""), _valid_value(c))
            for c in spec.components[:4]
        ]
        return st.tuples(*parts).map(lambda values: ">".join(values).rstrip(">") or "X")
    low, high = max(spec.min_length, 1), spec.max_length
    top = min(high, low + 8)
    if spec.codes:
        return st.sampled_from(sorted(spec.codes))
    if spec.type in ("AN", "ID"):
        return st.text(string.ascii_uppercase + string.digits + " -./", min_size=low, max_size=top)
    if spec.type == "DT":
        form = "%Y%m%d" if low <= 8 <= high else "%y%m%d"
        days = st.dates(datetime.date(2000, 1, 1), datetime.date(2099, 12, 31))
        return days.map(lambda day: day.strftime(form))
    if spec.type == "TM":
        form = "%H%M" if low <= 4 else "%H%M%S"
        return st.times().map(lambda time: time.strftime(form))
    digits = st.text("0123456789", min_size=low, max_size=top)
    if spec.type == "R":
        return st.one_of(digits, digits.map(lambda d: f"{d[:-1]}.{d[-1]}" if len(d) > 1 else d))
    return digits


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(st.sampled_from(ALL_SEGMENT_SPECS), st.data())
def test_fast_path_and_element_checks_agree_on_near_valid_segments(spec, data):
    """On segments made of valid values with now and then an empty, wrong or junk one
    (syntax rules and mandatory elements then decide), the expression accepts exactly
    what the checks find clean: no finding is skipped, and clean segments take the fast
    path."""
    match = segment_matcher(spec, "extended", "*", ">", "^")
    if match is None:
        return
    count = data.draw(st.integers(min_value=0, max_value=len(spec.elements)))
    values = [
        data.draw(
            st.one_of(
                _valid_value(element),
                _valid_value(element),
                _valid_value(element),
                st.just(""),
                _element_value(element),
            )
        )
        for element in spec.elements[:count]
    ]
    text = "*".join([spec.tag, *values])
    findings = SegmentChecker(spec, "extended").check(text.split("*"), Delimiters(repetition="^"))
    assert bool(match(text)) == (not findings), (text, findings)


def test_fast_path_takes_the_usual_segments():
    """Valid segments of every sample go the fast way (otherwise the bench would lie)."""
    registry = default_registry()
    for tag, text in (
        ("W05", "W05*N*SO123*PO9"),
        ("N4", "N4*Springfield*IL*62701*US"),
        ("W01", "W01*2.5*CA*012345678905*SK*SKU-2"),
        ("LIN", "LIN**SK*SKU-1*UP*012345678905"),
        ("QTY", "QTY*17*40"),
        ("G62", "G62*10*20250305"),
        ("W12", "W12*BP*3*2*1*EA**SK*SKU-2*LOT7"),
        ("AK4", "AK4*1>2*355*7*XX"),
    ):
        spec = registry.find(
            next(
                s for s in registry.set_ids("004010") if tag in registry.find(s, "004010").segments
            ),
            "004010",
        ).segments[tag]
        assert segment_matcher(spec, "extended", "*", ">")(text), text


def test_the_fast_path_knows_the_calendar_and_the_clock():
    """Dates (leap years included, YYMMDD read as 20YY) and times as the element checks
    read them."""
    date8, date6, clock = (re.compile(p).fullmatch for p in (_DATE8, _DATE6, _TIME))
    years = (0, 1, 4, 100, 400, 1900, 2000, 2023, 2024, 2100, 9999)
    for value in (f"{y:04d}{md:04d}" for y in years for md in range(1400)):
        assert bool(date8(value)) == valid_date(value), value
    for value in (f"{yy:02d}{md}" for yy in range(100) for md in ("0228", "0229", "0230")):
        assert bool(date6(value)) == valid_date(value), value
    for value in (f"{t:0{n}d}" for n in (4, 5, 6, 8) for t in range(0, 10**n, 7 if n < 6 else 997)):
        assert bool(clock(value)) == valid_time(value), value
