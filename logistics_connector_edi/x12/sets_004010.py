"""Structures of the 004010 logistics transaction sets (segment order, loops, limits).

Between ST and SE; ``S(tag, min, max)`` is a segment, ``LOOP(min, max, trigger, ...)`` a loop.
Segments the engine has no element dictionary for are left out: a partner sending them
gets "segment not in the defined transaction set" until they are added here.
"""

import functools

from .dictionary_004010 import SEGMENTS_BY_TAG
from .spec import LOOP, Registry, S, SetSpec

VERSION = "004010"


def _n1_loop(min_repeat=0, max_repeat=10, *extra):
    return LOOP(
        min_repeat,
        max_repeat,
        S("N1", 1),
        S("N2", 0, 2),
        S("N3", 0, 2),
        S("N4"),
        *extra,
        S("PER", 0, 5),
    )


STRUCTURES = {
    "940": (
        "Warehouse Shipping Order",
        (
            S("W05", 1),
            _n1_loop(0, 10),
            S("N9", 0, 10),
            S("G61", 0, 3),
            S("G62", 0, 10),
            S("NTE", 0, 99999),
            S("W66", 0, 1),
            LOOP(
                0,
                99999,
                S("LX", 1),
                S("MAN", 0, 99999),
                S("N1", 0, 1),
                S("G62", 0, 10),
                LOOP(
                    0,
                    99999,
                    S("W01", 1),
                    S("G69", 0, 5),
                    S("N9", 0, 200),
                    S("NTE", 0, 99999),
                    S("W20", 0, 3),
                    S("QTY", 0, 10),
                    S("G62", 0, 10),
                ),
            ),
            S("W76", 0, 1),
        ),
    ),
    "945": (
        "Warehouse Shipping Advice",
        (
            S("W06", 1),
            _n1_loop(1, 10),
            S("N9", 0, 10),
            S("G61", 0, 3),
            S("G62", 0, 5),
            S("NTE", 0, 20),
            S("W27", 0, 1),
            S("W28", 0, 1),
            S("W10", 0, 10),
            S("G72", 0, 5),
            LOOP(
                0,
                99999,
                S("LX", 1),
                S("MAN", 0, 99999),
                S("PAL", 0, 1),
                S("N9", 0, 5),
                LOOP(
                    0,
                    99999,
                    S("W12", 1),
                    S("G69", 0, 5),
                    S("N9", 0, 200),
                    S("G62", 0, 10),
                    S("QTY", 0, 10),
                    S("MEA", 0, 5),
                    S("W27", 0, 1),
                    S("N1", 0, 5),
                    S("G72", 0, 5),
                ),
            ),
            S("W03", 1),
        ),
    ),
    "943": (
        "Warehouse Stock Transfer Shipment Advice",
        (
            S("W06", 1),
            _n1_loop(1, 10),
            S("N9", 0, 10),
            S("G61", 0, 3),
            S("G62", 0, 5),
            S("NTE", 0, 20),
            S("W27", 1),
            S("W28", 0, 1),
            S("W10", 0, 1),
            LOOP(1, 9999, S("W04", 1), S("G69", 0, 5), S("N9", 0, 200), S("W20", 0, 2)),
            S("W03", 1),
        ),
    ),
    "944": (
        "Warehouse Stock Transfer Receipt Advice",
        (
            S("W17", 1),
            _n1_loop(1, 10),
            S("N9", 0, 10),
            S("G61", 0, 3),
            S("G62", 0, 5),
            S("NTE", 0, 20),
            S("W08", 0, 1),
            S("W18", 0, 10),
            S("G08", 0, 2),
            LOOP(
                1,
                9999,
                S("W07", 1),
                S("G69", 0, 5),
                S("N9", 0, 200),
                S("W20", 0, 2),
                LOOP(0, 50, S("W13", 1), S("N9", 0, 200)),
            ),
            S("W14", 1),
        ),
    ),
    "846": (
        "Inventory Inquiry/Advice",
        (
            S("BIA", 1),
            S("CUR", 0, 1),
            S("DTM", 0, 10),
            S("REF", 0, 12),
            S("PER", 0, 3),
            S("MEA", 0, 20),
            LOOP(
                0,
                5,
                S("N1", 1),
                S("N2", 0, 2),
                S("N3", 0, 2),
                S("N4"),
                S("REF", 0, 12),
                S("PER", 0, 3),
            ),
            LOOP(
                1,
                10000,
                S("LIN", 1),
                S("PID", 0, 200),
                S("MEA", 0, 40),
                S("DTM", 0, 10),
                S("CUR", 0, 1),
                S("REF", 0, 99999),
                S("PER", 0, 3),
                S("MAN", 0, 1),
                LOOP(0, 99, S("QTY", 1), S("MEA", 0, 25), S("DTM", 0, 10)),
                LOOP(
                    0,
                    200,
                    S("N1", 1),
                    S("N2", 0, 2),
                    S("N3", 0, 2),
                    S("N4"),
                    S("REF", 0, 12),
                    S("PER", 0, 3),
                ),
            ),
            S("CTT", 0, 1),
        ),
    ),
    "856": (
        "Ship Notice/Manifest",
        (
            S("BSN", 1),
            S("DTM", 0, 10),
            LOOP(
                1,
                200000,
                S("HL", 1),
                S("LIN", 0, 1),
                S("SN1", 0, 1),
                S("PRF", 0, 1),
                S("PID", 0, 200),
                S("MEA", 0, 40),
                S("TD1", 0, 20),
                S("TD5", 0, 12),
                S("TD3", 0, 12),
                S("REF", 0, 99999),
                S("PER", 0, 3),
                S("MAN", 0, 99999),
                S("DTM", 0, 10),
                S("PAL", 0, 1),
                LOOP(
                    0,
                    200,
                    S("N1", 1),
                    S("N2", 0, 2),
                    S("N3", 0, 2),
                    S("N4"),
                    S("REF", 0, 12),
                    S("PER", 0, 3),
                ),
            ),
            S("CTT", 0, 1),
        ),
    ),
    "214": (
        "Transportation Carrier Shipment Status Message",
        (
            S("B10", 1),
            S("L11", 0, 300),
            S("MAN", 0, 9999),
            S("K1", 0, 10),
            LOOP(
                0,
                10,
                S("N1", 1),
                S("N2", 0, 1),
                S("N3", 0, 2),
                S("N4"),
                S("G61", 0, 1),
                S("G62", 0, 1),
                S("L11", 0, 10),
            ),
            S("MS3", 0, 12),
            LOOP(
                0,
                999999,
                S("LX", 1),
                LOOP(0, 10, S("AT7", 1), S("MS1", 0, 1), S("MS2", 0, 1)),
                S("L11", 0, 10),
                S("MAN", 0, 9999),
                S("K1", 0, 10),
            ),
        ),
    ),
    "210": (
        "Motor Carrier Freight Details and Invoice",
        (
            S("B3", 1),
            S("C3", 0, 1),
            S("N9", 0, 300),
            S("G62", 0, 6),
            S("K1", 0, 10),
            LOOP(0, 10, S("N1", 1), S("N2", 0, 1), S("N3", 0, 2), S("N4"), S("N9", 0, 5)),
            LOOP(0, 10, S("N7", 1)),
            LOOP(
                0,
                999,
                S("S5", 1),
                S("N9", 0, 10),
                S("G62", 0, 10),
                LOOP(0, 2, S("N1", 1), S("N2", 0, 1), S("N3", 0, 2), S("N4"), S("N9", 0, 5)),
            ),
            LOOP(
                0,
                9999,
                S("LX", 1),
                S("N9", 0, 5),
                S("L5", 0, 30),
                S("L0", 0, 10),
                S("L1", 0, 10),
                S("K1", 0, 10),
            ),
            S("L3", 1),
        ),
    ),
    "997": (
        "Functional Acknowledgment",
        (
            S("AK1", 1),
            LOOP(
                0,
                999999,
                S("AK2", 1),
                LOOP(0, 999999, S("AK3", 1), S("AK4", 0, 99)),
                S("AK5", 1),
            ),
            S("AK9", 1),
        ),
    ),
}


def build_sets():
    """SetSpec objects of every 004010 set above."""
    from .codes import FUNCTIONAL_IDS

    specs = []
    for set_id, (name, body) in STRUCTURES.items():
        spec = SetSpec(set_id, VERSION, FUNCTIONAL_IDS[set_id], name, body)
        segments = {tag: SEGMENTS_BY_TAG[tag] for tag in spec.tags()}
        specs.append(SetSpec(set_id, VERSION, FUNCTIONAL_IDS[set_id], name, body, segments))
    return specs


@functools.cache
def _default_specs():
    from .sets_005010 import build_sets as build_005010

    specs = build_sets()
    return (*specs, *build_005010(specs))


def default_registry():
    """A registry with every 004010 set of this module and its 005010 edition
    (``sets_005010``). Which versions a partner may send is the partner's rule
    (``PartnerRules.versions``), not the registry's."""
    registry = Registry()
    for spec in _default_specs():
        registry.register(spec)
    return registry
