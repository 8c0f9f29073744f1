"""The 005010 editions of the logistics sets: the 004010 specs with what version 005010
changed in them, written once as differences (no second copy of the dictionary or of the
set structures).

Differences carried (from the X12 005010 segment and element directories):

- data element 127 (Reference Identification) holds up to 50 characters, not 30: N902,
  REF02, L1101, BIA03, B1001... and the reference composite C040;
- N4 gains N407, Country Subdivision Code (element 1715, ID 1/3), required only with a
  country: syntax rule C0704 (if N407 is present, N404 is required);
- the 997: AK103 Version / Release / Industry Identifier Code (480, AN 1/12), AK203
  Implementation Convention Reference (1705, AN 1/35), a third component in AK401 (C030-03
  Repeating Data Element Position, 1686, N0 1/4) and two more AK403 codes: 12 too many
  repetitions, 13 too many components.

A partner's GS08 selects the edition: "005010" and "005010<industry>" (e.g. 005010VICS) read
as 005010 (see ``Registry.find``). Partner restrictions layer on top the same way as on
004010.
"""

from .spec import E, SegmentChange, VersionChanges

VERSION = "005010"

CHANGES = VersionChanges(
    VERSION,
    elements={
        127: {"max_length": 50},
        723: {"codes": "1 2 3 4 5 6 7 8 9 10 12 13"},
    },
    segments={
        "N4": SegmentChange(
            added=(E(1715, "Country Subdivision Code", "ID", 1, 3),),
            rules="C0704",
        ),
        "AK1": SegmentChange(
            added=(E(480, "Version / Release / Industry Identifier Code", "AN", 1, 12),),
        ),
        "AK2": SegmentChange(
            added=(E(1705, "Implementation Convention Reference", "AN", 1, 35),),
        ),
        "AK4": SegmentChange(
            components=((1, (E(1686, "Repeating Data Element Position", "N0", 1, 4),)),),
        ),
    },
)


def build_sets(specs_004010=None):
    """SetSpec objects of every 005010 edition, derived from the 004010 sets (given, or
    built here): each shares its structure with the 004010 set it comes from."""
    if specs_004010 is None:
        from .sets_004010 import build_sets as build_004010

        specs_004010 = build_004010()
    return [CHANGES.apply(spec) for spec in specs_004010]
