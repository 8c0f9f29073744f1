"""Partner XML is parsed without entities, DTDs or network access."""

import re
from pathlib import Path

from lxml import etree

from odoo.addons.logistics_connector_base.lib import safe_xml

ADDONS_ROOT = Path(__file__).resolve().parents[2]


def test_external_entities_are_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    document = f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]><r>&x;</r>'
    root = safe_xml.fromstring(document.encode())
    assert "TOP-SECRET" not in (root.text or "")


def test_entity_expansion_bombs_are_not_expanded():
    entities = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8)
    )
    document = f'<?xml version="1.0"?><!DOCTYPE r [{entities}]><r>&i;</r>'
    try:
        root = safe_xml.fromstring(document.encode())
    except etree.XMLSyntaxError as error:
        # libxml2 itself may refuse it first ("entity amplification"): refused, not expanded.
        assert "amplification" in str(error) or "entity" in str(error).lower()
    else:
        assert len("".join(root.itertext())) < 1000


def test_no_partner_xml_is_parsed_with_a_default_parser():
    """Every parse in the suite's code goes through safe_xml (a default lxml parser may
    resolve entities, depending on the lxml version)."""
    unsafe = re.compile(r"etree\.(fromstring|XML|parse)\((?![^)]*parser)")
    offenders = [
        f"{path.relative_to(ADDONS_ROOT)}:{number}"
        for path in ADDONS_ROOT.glob("logistics_connector_*/**/*.py")
        if "tests" not in path.parts and path.name != "safe_xml.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if unsafe.search(line)
    ]
    assert offenders == []
