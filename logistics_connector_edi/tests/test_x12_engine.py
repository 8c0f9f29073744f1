"""Unit tests of the X12 engine with hand-written samples: one test per validation path."""

import io
import pathlib
import re
import tracemalloc

import pytest

from ..x12 import (
    Delimiters,
    FunctionalGroup,
    Interchange,
    PartnerRules,
    SerializationError,
    Serializer,
    TransactionSet,
    UnreadableFile,
    X12Reader,
    build_acknowledgements,
    default_registry,
    derive,
    iter_segments,
    parse_isa,
    validate,
)
from ..x12.report import MAX_SEGMENT_FINDINGS
from ..x12.serializer import format_decimal, format_number
from .x12_samples import INVENTORY_846, ORDER_940, RECEIPT_944, SHIPMENT_945, isa, x12


def set_codes(report):
    """[(AK501, [AK502...]), ...] of every set."""
    return [(s.code, s.error_codes) for i in report.interchanges for g in i.groups for s in g.sets]


def segment_codes(report):
    """[(tag, AK304, [AK403...]), ...] of every segment finding."""
    return [
        (f.tag, f.code, [e.code for e in f.elements])
        for i in report.interchanges
        for g in i.groups
        for s in g.sets
        for f in s.errors
    ]


def group_codes(report):
    return [(g.code, g.error_codes) for i in report.interchanges for g in i.groups]


def notes(report):
    return [code for i in report.interchanges for code, _detail in i.notes]


def replace_segment(segments, index, new):
    segments = list(segments)
    segments[index] = new
    return segments


# --- tokenizer ---------------------------------------------------------------------------


def test_separators_come_from_the_isa_and_line_breaks_after_terminators_are_tolerated():
    text = x12(ORDER_940, separator="|", component="^", terminator="\x1c", line_break="\r\n")
    text = text.replace("*", "|")
    report = validate(text)
    assert report.status == "accepted", report.findings()
    segments = list(iter_segments(text))
    assert segments[0].delimiters == Delimiters("|", "^", "\x1c")
    assert [s.tag for s in segments[:4]] == ["ISA", "GS", "ST", "W05"]
    assert segments[3].elements == ["N", "SO123", "PO9"]


def test_line_break_as_segment_terminator():
    text = x12(ORDER_940, terminator="\n", line_break="")
    assert validate(text).status == "accepted"


def test_several_interchanges_with_their_own_separators():
    first = x12(ORDER_940)
    second = x12(ORDER_940, control="000000002", separator="|", terminator="!").replace("*", "|")
    report = validate(first + "\n" + second)
    assert report.status == "accepted", report.findings()
    assert [i.control_number for i in report.interchanges] == ["000000001", "000000002"]
    assert report.interchanges[1].delimiters.element == "|"


def test_several_groups_and_sets_per_interchange():
    group_one = x12(ORDER_940, ORDER_940)
    group_two = x12(SHIPMENT_945, functional_id="SW", gs06="2")
    lines = group_one.splitlines()[:-1] + group_two.splitlines()[1:-1] + ["IEA*2*000000001~"]
    report = validate("\n".join(lines))
    assert report.status == "accepted", report.findings()
    assert [len(g.sets) for g in report.interchanges[0].groups] == [2, 1]


def test_isa_inside_data_is_not_taken_for_a_header():
    body = replace_segment(ORDER_940, 1, "N1*ST*ISAAC NEWTON")
    report = validate(x12(body))
    assert report.status == "accepted"


def test_a_lone_isa_segment_is_a_bad_segment_not_a_header():
    """An "ISA" without separators cannot open an interchange (an ISA is fixed width): it
    is reported where it stands."""
    report = validate(x12([ORDER_940[0], "ISA", *ORDER_940[1:]]))
    assert segment_codes(report) == [("ISA", "1", [])]
    report = validate(x12(ORDER_940).replace("GS*", "ISA~\nGS*", 1))
    assert notes(report) == ["024"]


@pytest.mark.parametrize(
    "layout",
    [
        lambda t: t,  # one segment per line
        lambda t: t.replace("~\n", "~"),  # no line breaks
        lambda t: t.replace("~\n", "~\r\n"),
        lambda t: t.replace("~\n", "~\n\n"),  # blank lines
        lambda t: t.replace("~\nN1", "~N1").replace("~\nLX", "~\r\n\r\nLX"),  # mixed
        lambda t: t.replace("~\nW76", "~~\nW76"),  # an empty segment
    ],
)
def test_every_line_layout_reads_the_same_segments_across_read_chunks(layout):
    """The reader splits whole blocks at once when a file has one segment per line (or
    none): any other layout, cut anywhere between two reads, gives the same segments."""
    reference = [(s.tag, s.elements) for s in iter_segments(x12(ORDER_940, ORDER_940))]
    text = layout(x12(ORDER_940, ORDER_940))
    for chunk_size in (7, 64, 1 << 16):
        assert [(s.tag, s.elements) for s in iter_segments(text, chunk_size)] == reference
    assert validate(text).status == "accepted", validate(text).findings()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("ISA*00*   *00*", "ends inside the ISA"),
        ("GS*OW*A*B~" + " " * 120, "expected an interchange header 'ISA'"),
        (isa(sender="TOO-LONG-SENDER-ID"), "ISA06 (Interchange Sender ID) must be exactly 15"),
        (isa(terminator="A"), "segment terminator"),
        (isa(component="*"), "ISA16 contains the element separator"),
        (isa(separator="A").replace("*", "A"), "element separator"),
    ],
)
def test_malformed_isa_is_rejected_clearly(text, words):
    with pytest.raises(UnreadableFile, match=re.escape(words)):
        parse_isa(text.ljust(106) if len(text) < 106 and "ends" not in words else text)
    report = validate(text + "\nGS*OW~")
    assert report.status == "unreadable"
    assert words in report.unreadable
    assert report.exit_status == 3


def test_garbage_after_an_interchange_is_reported_after_what_was_read():
    report = validate(x12(ORDER_940) + "hello world, this is not X12" * 5)
    assert report.unreadable and "expected an interchange header" in report.unreadable
    assert report.interchanges[0].groups[0].sets[0].code == "A"


def test_unterminated_last_segment_and_missing_iea():
    text = x12(ORDER_940).rstrip().rstrip("~")
    report = validate(text)
    assert report.status == "accepted"  # the IEA without its terminator still closes it
    report = validate(text.rsplit("\n", 1)[0])
    assert notes(report) == ["023"]


def test_new_isa_before_iea_closes_the_interchange_with_023():
    first = x12(ORDER_940).rsplit("IEA", 1)[0]
    report = validate(first + x12(ORDER_940, control="000000002"))
    assert notes(report) == ["023"]
    assert len(report.interchanges) == 2
    assert report.interchanges[1].code == "A"


def test_bytes_that_are_not_text_are_reported_not_guessed():
    body = replace_segment(ORDER_940, 1, "N1*ST*Ren\xe9e")
    latin1 = x12(body).encode("latin-1")
    report = validate(latin1)
    [finding] = report.interchanges[0].groups[0].sets[0].errors
    assert finding.elements[0].code == "6"
    assert "byte 0xE9 (not valid text)" in finding.elements[0].detail
    utf8 = validate(x12(body).encode("utf-8"))
    assert "'é' (U+00E9)" in utf8.findings()[0]


def test_reads_paths_and_file_objects_in_small_chunks(tmp_path):
    path = tmp_path / "order.x12"
    path.write_text(x12(ORDER_940))
    assert validate(path).status == "accepted"
    segments = list(iter_segments(io.BytesIO(path.read_bytes()), chunk_size=3))
    assert [s.tag for s in segments][-3:] == ["SE", "GE", "IEA"]


# --- elements (AK4) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("segment", "index", "codes", "words"),
    [
        ("W05*N", 0, ["1"], "W0502 (Depositor Order Number): is mandatory but missing"),
        ("N1*ST", 1, ["2"], "at least one of N102, N103 is required"),
        ("N1*ST*Bob*92", 1, ["2"], "N104 (Identification Code): is required when N103"),
        ("W05*N*SO1*PO*****X", 0, ["3"], "8 elements sent, the segment has at most 7"),
        ("N4*S", 3, ["4"], "'S' is too short: 1 characters, at least 2"),
        ("W05*N*" + "X" * 23, 0, ["5"], "too long: 23 characters, at most 22"),
        ("W05*N*SO\x01", 0, ["6"], "control character U+0001"),
        ("W01*five*EA", 7, ["6"], "'five' is not a decimal number"),
        ("LX*1.5", 6, ["6"], "'1.5' is not a whole number"),
        ("G62*10*20250230", 4, ["8"], "'20250230' is not a valid date"),
        ("G62*10*20250301*A*2460", 4, ["9"], "'2460' is not a valid time"),
        ("N4*City*IL*62701*US**X1", 3, ["2"], "N405 (Location Qualifier): is required when N406"),
        # digits of other scripts are no X12 digits (str.isdigit() would take them)
        ("LX*\u0661", 6, ["6"], "is not a whole number"),
        ("W01*\u0665*EA", 7, ["6"], "is not a decimal number"),
        ("G62*10*\uff12\uff10\uff12\uff15\uff10\uff13\uff10\uff11", 4, ["8"], "not a valid date"),
    ],
)
def test_element_errors(segment, index, codes, words):
    report = validate(x12(replace_segment(ORDER_940, index, segment)))
    [(tag, code, element_codes)] = segment_codes(report)
    assert (tag, code, element_codes) == (segment.split("*")[0], "8", codes)
    assert any(words in line for line in report.findings()), report.findings()
    assert set_codes(report) == [("R", ["5"])]


def test_invalid_code_value_and_exclusion_and_composites():
    ack_997 = [
        "AK1*OW*1",
        "AK2*940*0001",
        "AK3*W05*2**9",
        "AK4*1>2*473*11*Q",
        "AK5*Q",
        "AK9*A*1*1*1",
    ]
    report = validate(x12(ack_997, functional_id="FA", **{}).replace("ST*940", "ST*997"))
    found = segment_codes(report)
    assert ("AK3", "8", ["7"]) in found  # AK304 9 is not a segment error code
    assert ("AK4", "8", ["7"]) in found  # AK403 11 is not an element error code
    assert ("AK5", "8", ["7"]) in found
    body = list(INVENTORY_846)
    body[2] = "QTY*17*40**FREE"  # QTY02 and QTY04 exclude each other (4010 E0204)
    body[3] = "QTY*33*5*>2"  # composite without its mandatory first component
    report = validate(x12(body, functional_id="IB"))
    assert segment_codes(report) == [("QTY", "8", ["10"]), ("QTY", "8", ["1"])]
    assert "component 1 (Unit or Basis for Measurement Code)" in "\n".join(report.findings())


def test_partner_code_lists_and_required_elements():
    rules = PartnerRules(code_lists={"W12-01": ["CC", "CP"]}, required=("W06-04",))
    body = replace_segment(SHIPMENT_945, 0, "W06*F*SO123*20250306")
    report = validate(x12(body, functional_id="SW"), rules=rules)
    found = segment_codes(report)
    assert found == [("W06", "8", ["1"]), ("W12", "8", ["7"])]
    assert "'BP' is not a valid code; expected one of CC, CP" in "\n".join(report.findings())
    assert validate(x12(body, functional_id="SW")).status == "accepted"


def test_basic_character_set_refuses_lower_case():
    report = validate(x12(ORDER_940), rules=PartnerRules(charset="basic"))
    assert "'o' (U+006F) is not allowed (X12 basic set)" in "\n".join(report.findings())


def test_tolerated_findings_accept_with_errors():
    body = replace_segment(ORDER_940, 0, "W05*N*" + "X" * 23)
    rules = PartnerRules(tolerated=frozenset({"AK4:5"}))
    report = validate(x12(body), rules=rules)
    assert set_codes(report) == [("E", ["5"])]
    assert group_codes(report) == [("E", [])]
    assert (report.status, report.exit_status) == ("accepted_with_errors", 1)


# --- segments and loops (AK3) --------------------------------------------------------------


def test_unrecognized_segment():
    report = validate(x12([*ORDER_940[:2], "ZZZ*1", *ORDER_940[2:]]))
    assert segment_codes(report) == [("ZZZ", "1", [])]
    [finding] = report.interchanges[0].groups[0].sets[0].errors
    assert finding.position == 4 and finding.file_segment == 6


def test_unexpected_segment_of_another_loop():
    report = validate(x12([RECEIPT_944[0], "W13*1*EA*DM", *RECEIPT_944[1:]], functional_id="RE"))
    assert segment_codes(report) == [("W13", "2", [])]


def test_mandatory_segment_and_loop_missing():
    report = validate(x12(SHIPMENT_945[:-1], functional_id="SW"))
    assert segment_codes(report) == [("W03", "3", [])]
    assert "segment W03 is mandatory but missing (expected before SE)" in report.findings()[0]
    report = validate(x12([s for s in SHIPMENT_945 if s[:2] != "N1"], functional_id="SW"))
    assert segment_codes(report) == [("N1", "3", [])]
    assert "the N1 loop is mandatory" in report.findings()[0]


def test_mandatory_segment_inside_a_closed_loop():
    body = [*INVENTORY_846]
    body.insert(2, "PID*F****Blue widget")
    assert validate(x12(body, functional_id="IB")).status == "accepted"


def test_loop_over_its_maximum():
    body = [SHIPMENT_945[0], *["N1*ST*Bob"] * 11, *SHIPMENT_945[2:]]
    report = validate(x12(body, functional_id="SW"))
    assert segment_codes(report) == [("N1", "4", [])]


def test_segment_over_its_maximum_use():
    report = validate(x12([ORDER_940[0], *ORDER_940]))
    assert segment_codes(report) == [("W05", "5", [])]


def test_segment_not_in_the_set():
    report = validate(x12([*ORDER_940[:-1], "W12*CC*1", ORDER_940[-1]]))
    assert segment_codes(report) == [("W12", "6", [])]


def test_segment_out_of_sequence():
    report = validate(x12([*ORDER_940[:-1], "W66*PP*M", ORDER_940[-1]]))
    assert segment_codes(report) == [("W66", "7", [])]
    body = [*ORDER_940[:7], "N3*2 Side St", *ORDER_940[7:]]
    report = validate(x12(body))
    assert segment_codes(report) == [("N3", "7", [])]


def test_findings_per_set_are_capped():
    body = [ORDER_940[0], *["ZZZ"] * (MAX_SEGMENT_FINDINGS + 5), *ORDER_940[1:]]
    result = validate(x12(body)).interchanges[0].groups[0].sets[0]
    assert len(result.errors) == MAX_SEGMENT_FINDINGS
    assert result.dropped_findings == 5
    assert result.code == "R"


# --- sets, groups, interchanges (AK5, AK9, TA1) --------------------------------------------


def test_set_trailer_checks():
    text = x12(ORDER_940)
    assert set_codes(validate(text.replace("SE*12*0001", "SE*11*0001"))) == [("R", ["4"])]
    assert set_codes(validate(text.replace("SE*12*0001", "SE*12*0002"))) == [("R", ["3"])]
    missing_se = validate(text.replace("SE*12*0001~\n", ""))
    assert set_codes(missing_se) == [("R", ["2"])]
    assert set_codes(validate(text.replace("ST*940*0001", "ST*940*01"))) == [("R", ["7", "3"])]


def test_unsupported_set_and_set_in_the_wrong_group():
    assert set_codes(validate(x12(("850", "0001", ["BEG*00*SA*1**20250301"])))) == [("R", ["1"])]
    assert set_codes(validate(x12(("945", "0001", SHIPMENT_945)))) == [("R", ["6"])]


def test_duplicate_set_control_numbers():
    report = validate(x12(("940", "0007", ORDER_940), ("940", "0007", ORDER_940)))
    assert set_codes(report) == [("A", []), ("R", ["23"])]
    assert group_codes(report) == [("P", [])]
    assert report.status == "rejected"


def test_group_checks():
    text = x12(ORDER_940)
    assert group_codes(validate(text.replace("GE*1*1", "GE*2*1"))) == [("R", ["5"])]
    assert group_codes(validate(text.replace("GE*1*1", "GE*1*2"))) == [("R", ["4"])]
    assert group_codes(validate(text.replace("GE*1*1~\n", ""))) == [("R", ["3"])]
    assert group_codes(validate(x12(ORDER_940, version="003040"))) == [("R", ["2"])]
    unsupported = validate(x12(ORDER_940, functional_id="PO"))
    assert group_codes(unsupported) == [("R", ["1"])]
    assert set_codes(unsupported) == [("R", ["6"])]
    assert group_codes(validate(x12(ORDER_940, gs06="X1"))) == [("R", ["6"])]
    twice = text.replace("IEA*1", "IEA*2").replace(
        "GE*1*1~\n", "GE*1*1~\n" + text.split("\n", 1)[1].rsplit("IEA", 1)[0]
    )
    assert group_codes(validate(twice)) == [("A", []), ("R", ["6"])]


def test_interchange_checks():
    text = x12(ORDER_940)
    assert notes(validate(text.replace("IEA*1*000000001", "IEA*1*000000002"))) == ["001"]
    assert notes(validate(text.replace("IEA*1*", "IEA*3*"))) == ["021"]
    assert notes(validate(text + text)) == ["025"]
    ledger = validate(text, is_duplicate_interchange=lambda sender, receiver, number: True)
    assert notes(ledger) == ["025"]
    assert notes(validate(text, expected_receiver=("ZZ", "SOMEONEELSE"))) == ["009"]
    assert ledger.status == "rejected"
    bad_isa = x12(ORDER_940, date="250231", time="2500", ack="2", usage="X", standards="V")
    assert notes(validate(bad_isa)) == ["014", "015", "016", "019", "020"]
    assert notes(validate(text.replace("*00401*", "*00300*"))) == ["017"]
    assert notes(validate(x12(ORDER_940, control="00000000A", iea02="00000000A"))) == ["018"]


def test_segments_outside_groups_and_sets():
    text = x12(ORDER_940)
    outside_group = text.replace("GS*", "N9*ZZ*1~\nGS*", 1)
    assert notes(validate(outside_group)) == ["024"]
    between_sets = text.replace("GE*1*1", "N9*ZZ*1~\nGE*1*1")
    assert group_codes(validate(between_sets)) == [("R", ["5"])]
    stray_ge = text.replace("IEA*", "GE*1*1~\nIEA*")
    assert notes(validate(stray_ge)) == ["022"]


def test_every_sample_set_is_accepted():
    for functional_id, body in (
        ("OW", ORDER_940),
        ("SW", SHIPMENT_945),
        ("RE", RECEIPT_944),
        ("IB", INVENTORY_846),
    ):
        report = validate(x12(body, functional_id=functional_id))
        assert report.status == "accepted", report.findings()


def test_reader_keeps_one_set_at_a_time():
    text = x12(ORDER_940, ORDER_940, ORDER_940)
    sizes = [len(parsed.segments) for parsed in X12Reader(text)]
    assert sizes == [12, 12, 12]


class _GeneratedFile(io.RawIOBase):
    """A big 846 made on the fly, so the file itself never sits in memory."""

    def __init__(self, lines):
        self.pieces = self._pieces(lines)
        self.pending = b""

    @staticmethod
    def _pieces(lines):
        yield (isa() + "\nGS*IB*OURCOMPANY*PARTNER3PL*20250301*1200*1*X*004010~\n").encode()
        sets = lines // 20_000
        for number in range(1, sets + 1):
            body = ["BIA*00*MM*INV1*20250308"]
            for item in range(6_666):
                body += [f"LIN**SK*SKU-{item}", "QTY*17*40"]
            body.append("CTT*6666")
            text = f"ST*846*{number:04d}~\n" + "~\n".join(body) + "~\n"
            yield (text + f"SE*{len(body) + 2}*{number:04d}~\n").encode()
        yield f"GE*{sets}*1~\nIEA*1*000000001~\n".encode()

    def readable(self):
        return True

    def readinto(self, buffer):
        while len(self.pending) < len(buffer):
            piece = next(self.pieces, None)
            if piece is None:
                break
            self.pending += piece
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size


def test_a_100000_line_file_streams_through_in_little_memory():
    tracemalloc.start()
    try:
        reader = X12Reader(io.BufferedReader(_GeneratedFile(100_000)), keep_segments=False)
        report = reader.run()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.status == "accepted", report.findings()[:3]
    assert sum(g.received for g in report.interchanges[0].groups) == 5
    # the file is about 1.7 MB; holding its segments would take over 20 MB (the bounded
    # caches of values already found valid take about 1 MB)
    assert peak < 5_000_000, peak


def test_a_file_of_unknown_segments_does_not_grow_what_the_reader_remembers():
    """Moves are remembered for the tags of the set only, clean texts up to a bound: a
    file of made-up segments costs findings (capped), never memory without end."""
    junk = [f"Z{n % 26 + 10:X}{n:05d}*{n}" for n in range(3000)]
    reader = X12Reader(x12([*ORDER_940[:1], *junk, *ORDER_940[1:]]), keep_segments=False)
    report = reader.run()
    assert report.status == "rejected"
    [machine] = reader._machines.values()
    remembered = sum(len(state.transitions) for state in machine._states.values())
    assert remembered < 50, remembered
    assert report.interchanges[0].groups[0].sets[0].dropped_findings == 3000 - MAX_SEGMENT_FINDINGS


# --- serializer --------------------------------------------------------------------------


def _order_interchange(**options):
    segments = [(s.split("*")[0], s.split("*")[1:]) for s in ORDER_940]
    return Interchange(
        "ZZ",
        "OURCOMPANY",
        "ZZ",
        "PARTNER3PL",
        42,
        groups=[
            FunctionalGroup(
                "OW", "OURCOMPANY", "PARTNER3PL", 7, sets=[TransactionSet("940", 3, segments)]
            )
        ],
        **options,
    )


def test_serializer_writes_a_fixed_width_isa_and_right_counts():
    text = Serializer().serialize(_order_interchange())
    first = text.splitlines()[0]
    assert len(first) == 106 and first.endswith("*U*00401*000000042*0*P*>~")
    assert "ST*940*0003~\n" in text and "SE*12*0003~\n" in text
    assert "GE*1*7~\nIEA*1*000000042~\n" in text
    report = validate(text)
    assert report.status == "accepted", report.findings()


def test_serializer_separators_line_breaks_composites_and_00501():
    interchange = _order_interchange(version="00501", usage="T")
    interchange.groups[0].sets[0].segments.append(("QTY", ["17", None, ["EA", "", None]]))
    serializer = Serializer(Delimiters("|", ":", "'", "^"), line_break="\r\n")
    text = serializer.serialize(interchange)
    assert text.splitlines()[0][82] == "^" and "|T|:'\r\n" in text.splitlines()[0] + "\r\n"
    assert "QTY|17||EA'\r\n" in text
    segments = list(iter_segments(text))
    assert segments[0].delimiters == Delimiters("|", ":", "'", "^")


def test_serializer_reports_text_it_cannot_write():
    interchange = _order_interchange()
    segments = interchange.groups[0].sets[0].segments
    segments[1] = ("N1", ["ST", "Zoë*Ltd"])
    segments[2] = ("N3", ["東京"])
    with pytest.raises(SerializationError) as caught:
        Serializer().serialize(interchange)
    problems = "\n".join(caught.value.problems)
    assert "N1 at position 3 of set 940 0003, element N102" in problems
    assert "'ë' (U+00EB)" in problems and "contains the separator '*'" in problems
    assert "'東' (U+6771)" in problems
    segments[1] = ("N1", ["ST", "Zoë Ltd"])
    segments[2] = ("N3", ["Main St"])
    text = Serializer(transliterate=True).serialize(interchange)
    assert "N1*ST*Zoe Ltd~" in text
    with pytest.raises(SerializationError, match="ISA06 'A-SENDER-ID-LONGER-THAN-15'"):
        Serializer().serialize(
            Interchange("ZZ", "A-SENDER-ID-LONGER-THAN-15", "ZZ", "B", 1, groups=[])
        )
    with pytest.raises(SerializationError, match="different"):
        Serializer(Delimiters("*", "*", "~"))


def test_number_formats():
    assert format_number(12.5, 2) == "1250"
    assert format_decimal(2.50) == "2.5" and format_decimal(3.0) == "3"
    assert format_decimal(-0.0) == "0"


# --- acknowledgements ----------------------------------------------------------------------


def test_997_for_an_element_error():
    body = replace_segment(SHIPMENT_945, 7, "W12*ZZ*5*5*0*EA**SK*SKU-1")
    rules = PartnerRules(code_lists={"W12-01": ["CC", "BP", "CP"]})
    report = validate(x12(body, functional_id="SW", gs06="77"), rules=rules)
    [reply] = build_acknowledgements(report, 5, 6, 8)
    text = Serializer().serialize(reply)
    assert "AK1*SW*77~\nAK2*945*0001~\nAK3*W12*9**8~\nAK4*1*668*7*ZZ~\nAK5*R*5~\n" in text
    assert "AK9*R*1*1*0~\nSE*8*0008~\nGE*1*6~\nIEA*1*000000005~" in text
    assert "GS*FA*PARTNER3PL*OURCOMPANY*" in text
    assert "TA1" not in text
    assert validate(text).status == "accepted"


def test_997_accepting_and_partially_accepting():
    [reply] = build_acknowledgements(validate(x12(ORDER_940, ORDER_940)))
    text = Serializer().serialize(reply)
    assert "AK5*A~" in text and "AK9*A*2*2*2~" in text
    report = validate(x12(ORDER_940, [*ORDER_940, "ZZZ"]))
    text = Serializer().serialize(build_acknowledgements(report)[0])
    assert "AK3*ZZZ*12**1~\nAK5*R*5~\nAK9*P*2*2*1~" in text


def test_ta1_for_envelope_errors_and_on_request():
    report = validate(x12(ORDER_940).replace("IEA*1*000000001", "IEA*1*000000009"))
    [reply] = build_acknowledgements(report)
    text = Serializer().serialize(reply)
    assert "TA1*000000001*250301*1200*R*001~" in text
    assert "GS*FA" not in text  # a rejected interchange gets no 997
    requested = Serializer().serialize(build_acknowledgements(validate(x12(ORDER_940, ack="1")))[0])
    assert "TA1*000000001*250301*1200*A*000~" in requested and "AK9*A*1*1*1~" in requested
    assert validate(requested, rules=PartnerRules()).status == "accepted"


def test_005010_can_be_registered_next_to_004010():
    registry = default_registry()
    spec = registry.find("940", "004010")
    registry.register(derive(spec, version="005010"))
    text = x12(ORDER_940).replace("*004010~", "*005010~").replace("*U*00401*", "*^*00501*")
    report = validate(text, registry=registry, rules=PartnerRules(versions=("005010",)))
    assert report.status == "accepted", report.findings()
    assert report.interchanges[0].delimiters.repetition == "^"


def test_the_package_has_no_odoo_import():
    package = pathlib.Path(__file__).parent.parent / "x12"
    for module in package.glob("*.py"):
        assert "odoo" not in module.read_text().replace("odoo.addons.logistics", ""), module


def test_an_empty_file_is_unreadable_in_plain_words():
    for empty in ("", "\r\n  \n", b""):
        report = validate(empty)
        assert report.status == "unreadable"
        assert report.findings() == [
            "unreadable: the file holds no interchange (it is empty or blank)"
        ]
