"""The 005010 editions of the sets: selected by GS08, derived from 004010 by their
differences only, enforced where they differ, answered and written in the right version."""

import datetime

import pytest

from ..x12 import (
    FunctionalGroup,
    Interchange,
    PartnerRules,
    SerializationError,
    Serializer,
    TransactionSet,
    build_acknowledgements,
    default_registry,
    iter_segments,
    validate,
)
from ..x12.sets_005010 import CHANGES
from .x12_samples import INVENTORY_846, ORDER_940, SHIPMENT_945, x12

BOTH = PartnerRules(versions=("004010", "005010"))
ONLY_5010 = PartnerRules(versions=("005010",))
NOW = datetime.datetime(2025, 3, 1, 12, 0, tzinfo=datetime.UTC)


def _interchange(*sets, version="005010", **options):
    """An interchange in envelope 00501 (ISA11 "^" is the repetition separator) with one
    group in ``version``."""
    return x12(*sets, version=version, standards="^", **options).replace("*00401*", "*00501*", 1)


def segment_codes(report):
    return [
        (f.tag, f.code, [e.code for e in f.elements])
        for i in report.interchanges
        for g in i.groups
        for s in g.sets
        for f in s.errors
    ]


def test_a_005010_interchange_validates():
    for body, functional_id in (
        (ORDER_940, "OW"),
        (SHIPMENT_945, "SW"),
        (INVENTORY_846, "IB"),
    ):
        report = validate(_interchange(body, functional_id=functional_id), rules=ONLY_5010)
        assert report.status == "accepted", report.findings()
        group = report.interchanges[0].groups[0]
        assert group.version == "005010"
        assert report.interchanges[0].delimiters.repetition == "^"


@pytest.mark.parametrize("set_id", ["940", "945", "943", "944", "846", "856", "214", "210", "997"])
def test_every_set_has_a_005010_edition_sharing_the_004010_structure(set_id):
    registry = default_registry()
    old, new = registry.find(set_id, "004010"), registry.find(set_id, "005010")
    assert new.version == "005010" and new.set_id == set_id
    # derived, not copied: the same structure object, only the changed segments differ
    assert new.body is old.body
    changed = {tag for tag in new.segments if new.segments[tag] is not old.segments[tag]}
    assert changed == {
        tag for tag in old.segments if CHANGES.segment(old.segments[tag]) != old.segments[tag]
    }


def test_gs08_with_an_industry_identifier_selects_the_005010_edition():
    body = [*ORDER_940[:3], "N4*Springfield*IL*62701*US***ON"]
    body += ORDER_940[4:]
    text = _interchange(body, version="005010VICS")
    report = validate(text, rules=ONLY_5010)
    assert report.status == "accepted", report.findings()
    assert report.interchanges[0].groups[0].version == "005010VICS"


def test_n407_is_a_005010_element():
    """N407 (country subdivision) exists from 005010 on; it needs N404 there (C0704)."""
    with_subdivision = replace(ORDER_940, 3, "N4*Toronto*ON*M5V2T6*CA***ON")
    assert validate(_interchange(with_subdivision), rules=ONLY_5010).status == "accepted"
    # the same segment in a 004010 group has one element too many
    report = validate(x12(with_subdivision), rules=BOTH)
    assert segment_codes(report) == [("N4", "8", ["3"])]
    # 005010 only: N407 without N404 breaks C0704
    without_country = replace(ORDER_940, 3, "N4*Toronto*ON*M5V2T6****ON")
    report = validate(_interchange(without_country), rules=ONLY_5010)
    assert segment_codes(report) == [("N4", "8", ["2"])]
    [finding] = report.interchanges[0].groups[0].sets[0].errors
    assert "N407" in finding.elements[0].detail and finding.elements[0].position == 4


def test_references_are_longer_in_005010():
    """Element 127 (Reference Identification) holds 50 characters in 005010, 30 before."""
    reference = "R" * 40
    body = [*SHIPMENT_945[:2], f"N9*BM*{reference}", *SHIPMENT_945[3:]]
    assert validate(_interchange(body, functional_id="SW"), rules=ONLY_5010).status == "accepted"
    report = validate(x12(body, functional_id="SW"))
    assert segment_codes(report) == [("N9", "8", ["5"])]
    # wherever element 127 is used, also inside the reference composite (C040)
    registry = default_registry()
    for version, longest in (("004010", 30), ("005010", 50)):
        ref = registry.find("846", version).segments["REF"]
        assert ref.elements[1].max_length == longest
        assert [c.max_length for c in ref.elements[3].components if c.ref == 127] == [longest] * 3
    too_long = [*SHIPMENT_945[:2], f"N9*BM*{'R' * 51}", *SHIPMENT_945[3:]]
    report = validate(_interchange(too_long, functional_id="SW"), rules=ONLY_5010)
    assert segment_codes(report) == [("N9", "8", ["5"])]


def test_the_repetition_separator_is_no_data_from_00501_on():
    """ISA11 declares the repetition separator in a 00501 envelope: inside a value that does
    not repeat it is "too many repetitions" (AK403 12) in a 005010 group, an invalid
    character (6) in a 004010 group; in a 00401 envelope the same character is data."""
    body = replace(ORDER_940, 1, "N1*ST*Bob^Smith")
    report = validate(_interchange(body), rules=ONLY_5010)
    assert segment_codes(report) == [("N1", "8", ["12"])]
    [finding] = report.interchanges[0].groups[0].sets[0].errors
    assert "repetition separator '^'" in finding.elements[0].detail
    # the 997 that says so is a valid 005010 997
    [reply] = build_acknowledgements(report, now=NOW)
    answer = Serializer().serialize(reply)
    assert "AK4*2*93*12*Bob?Smith~" in answer
    assert validate(answer, rules=ONLY_5010).status == "accepted"
    report = validate(_interchange(body, version="004010"), rules=BOTH)
    assert segment_codes(report) == [("N1", "8", ["6"])]
    assert validate(x12(body)).status == "accepted"


def test_a_00501_envelope_declares_its_repetition_separator():
    text = _interchange(ORDER_940).replace("*^*00501*", "*U*00501*", 1)
    report = validate(text, rules=ONLY_5010)
    assert [code for code, _detail in report.interchanges[0].notes] == ["016"]
    assert report.status == "rejected"


def test_a_partner_on_004010_only_rejects_a_005010_group():
    report = validate(_interchange(ORDER_940))
    group = report.interchanges[0].groups[0]
    assert group.code == "R" and group.error_codes == ["2"]


def test_the_997_of_a_005010_group_is_a_005010_997_in_a_00501_envelope():
    broken = replace(ORDER_940, 7, "W01*5*EA**SK*" + "S" * 49)
    report = validate(_interchange(broken), rules=ONLY_5010)
    [reply] = build_acknowledgements(report, now=NOW)
    assert reply.version == "00501"
    assert [g.version for g in reply.groups] == ["005010"]
    text = Serializer().serialize(reply)
    isa = text[:106]
    assert isa[82] == "^" and isa[84:89] == "00501", isa
    assert "*X*005010~" in text
    answer = validate(text, rules=ONLY_5010)
    assert answer.status == "accepted", answer.findings()
    # the 997 itself uses a 005010-only AK4 code (13: too many components) when needed
    body = ["AK1*OW*1*005010", "AK2*940*0001", "AK3*W01*9**8", "AK4*5>1>1*234*13", "AK5*R*5"]
    body.append("AK9*R*1*1*0")
    ack = _interchange(("997", "0001", body), functional_id="FA")
    assert validate(ack, rules=ONLY_5010).status == "accepted"
    report = validate(
        x12(("997", "0001", body), functional_id="FA").replace("AK1*OW*1*005010", "AK1*OW*1")
    )
    assert segment_codes(report) == [("AK4", "8", ["3", "7"])]


def test_a_004010_group_in_the_same_file_keeps_its_004010_997():
    report = validate(x12(ORDER_940), rules=BOTH)
    [reply] = build_acknowledgements(report, now=NOW)
    assert reply.version == "00401" and [g.version for g in reply.groups] == ["004010"]


def test_the_serializer_writes_005010_groups_in_a_00501_envelope():
    segments = [(s.split("*")[0], s.split("*")[1:]) for s in ORDER_940]
    interchange = Interchange(
        "ZZ",
        "OURCOMPANY",
        "ZZ",
        "PARTNER3PL",
        7,
        groups=[
            FunctionalGroup(
                "OW", "OURCOMPANY", "PARTNER3PL", 3, "005010", [TransactionSet("940", 1, segments)]
            )
        ],
        date=NOW,
    )
    text = Serializer().serialize(interchange)
    header = next(iter_segments(text))
    assert header.elements[11] == "00501" and header.delimiters.repetition == "^"
    report = validate(text, rules=ONLY_5010)
    assert report.status == "accepted", report.findings()
    # a value holding the repetition separator cannot be written in 00501
    segments[1] = ("N1", ["ST", "Bob^Smith"])
    with pytest.raises(SerializationError, match="separator"):
        Serializer().serialize(interchange)
    # the same value is plain data in a 00401 interchange
    interchange.groups[0].version = "004010"
    assert "Bob^Smith" in Serializer().serialize(interchange)


def replace(segments, index, new):
    segments = list(segments)
    segments[index] = new
    return segments
