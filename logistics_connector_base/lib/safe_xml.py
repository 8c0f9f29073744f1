"""Partner XML is parsed with entities, DTD loading and network access off, whatever the lxml
version's defaults (they changed between releases): no XXE, no billion laughs, no fetch."""

from lxml import etree

# For zeep's Settings: the same rules for SOAP answers.
ZEEP_SETTINGS = {
    "forbid_dtd": True,
    "forbid_entities": True,
    "forbid_external": True,
    "xml_huge_tree": False,
}


def parser():
    """A new parser (lxml parsers are not thread-safe, so none is shared)."""
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
    )


def fromstring(data):
    """Parse partner XML (bytes or str) safely; raises etree.XMLSyntaxError when malformed."""
    return etree.fromstring(data, parser())
