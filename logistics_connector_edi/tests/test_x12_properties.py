"""Property tests of the X12 engine: what the serializer writes parses back to the same
segments, and no corruption of a file makes the reader crash or pass it silently."""

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
    validate,
)
from ..x12.charset import EXTENDED_SPECIALS

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
