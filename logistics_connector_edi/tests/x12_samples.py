"""Hand-written X12 samples for the engine's tests: one helper builds the envelope so each
test shows only the segments it is about."""


def isa(
    control="000000001",
    sender="OURCOMPANY",
    receiver="PARTNER3PL",
    separator="*",
    component=">",
    terminator="~",
    version="00401",
    standards="U",
    ack="0",
    usage="P",
    date="250301",
    time="1200",
):
    fields = [
        "00",
        " " * 10,
        "00",
        " " * 10,
        "ZZ",
        sender.ljust(15),
        "ZZ",
        receiver.ljust(15),
        date,
        time,
        standards,
        version,
        control,
        ack,
        usage,
        component,
    ]
    return separator.join(["ISA", *fields]) + terminator


def x12(
    *sets,
    functional_id="OW",
    gs06="1",
    version="004010",
    control="000000001",
    ge01=None,
    ge02=None,
    iea01=None,
    iea02=None,
    line_break="\n",
    **isa_options,
):
    """An interchange with one group holding ``sets``; each set is a list of segment
    strings between ST and SE (``"W05*N*SO1"``), or a (set_id, st02, segments) tuple.
    Counts are right unless overridden."""
    separator = isa_options.get("separator", "*")
    terminator = isa_options.get("terminator", "~")
    lines = [isa(control=control, **isa_options)]
    lines.append(
        separator.join(
            [
                "GS",
                functional_id,
                "OURCOMPANY",
                "PARTNER3PL",
                "20250301",
                "1200",
                gs06,
                "X",
                version,
            ]
        )
    )
    for number, body in enumerate(sets, start=1):
        if isinstance(body, tuple):
            set_id, st02, segments = body
        else:
            set_id = {"OW": "940", "SW": "945", "AR": "943", "RE": "944", "IB": "846"}.get(
                functional_id, "940"
            )
            st02, segments = f"{number:04d}", body
        lines.append(separator.join(["ST", set_id, st02]))
        lines.extend(segments)
        lines.append(separator.join(["SE", str(len(segments) + 2), st02]))
    lines.append(separator.join(["GE", ge01 or str(len(sets)), ge02 or gs06]))
    lines.append(separator.join(["IEA", iea01 or "1", iea02 or control]))
    return (terminator + line_break).join(lines[1:]).join([lines[0] + line_break, ""]) + (
        terminator + line_break
    )


ORDER_940 = [
    "W05*N*SO123*PO9",
    "N1*ST*Bob Smith",
    "N3*1 Main St",
    "N4*Springfield*IL*62701*US",
    "G62*10*20250305",
    "W66*PP*M",
    "LX*1",
    "W01*5*EA**SK*SKU-1",
    "W01*2.5*CA*012345678905*SK*SKU-2",
    "W76*7.5",
]

SHIPMENT_945 = [
    "W06*F*SO123*20250306*SHIP1**PO9",
    "N1*ST*Bob Smith",
    "N9*BM*BOL123",
    "G62*11*20250306",
    "W27*M*UPSN",
    "LX*1",
    "MAN*GM*00000123450000000018",
    "W12*CC*5*5*0*EA**SK*SKU-1",
    "LX*2",
    "W12*BP*3*2*1*EA**SK*SKU-2*LOT7",
    "W03*7*12.5*LB",
]

RECEIPT_944 = [
    "W17*F*20250307*RCPT1*PO-IN-7*ASN1",
    "N1*WH*Main warehouse",
    "W07*10*EA**SK*SKU-1",
    "W07*4*EA**SK*SKU-2***LOT9",
    "W14*14",
]

INVENTORY_846 = [
    "BIA*00*MM*INV1*20250308",
    "LIN**SK*SKU-1",
    "QTY*17*40",
    "QTY*33*38",
    "LIN**SK*SKU-2",
    "QTY*17*5",
    "CTT*2",
]
