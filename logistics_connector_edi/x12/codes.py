"""Standard X12 acknowledgement codes and their meaning in plain words.

The numbers are the code values of the 997 (elements 720, 723, 718, 716) and of the TA1
interchange note (I18); the texts are what a person reads in a finding.
"""

# AK304 (720): what is wrong with a segment
SEGMENT_ERRORS = {
    "1": "unrecognized segment ID",
    "2": "unexpected segment",
    "3": "mandatory segment missing",
    "4": "loop occurs over its maximum times",
    "5": "segment exceeds its maximum use",
    "6": "segment not in the defined transaction set",
    "7": "segment not in proper sequence",
    "8": "segment has data element errors",
}

# AK403 (723): what is wrong with an element
ELEMENT_ERRORS = {
    "1": "mandatory data element missing",
    "2": "conditional required data element missing",
    "3": "too many data elements",
    "4": "data element too short",
    "5": "data element too long",
    "6": "invalid character in data element",
    "7": "invalid code value",
    "8": "invalid date",
    "9": "invalid time",
    "10": "exclusion condition violated",
}

# AK502 (718): why a transaction set is not accepted
SET_ERRORS = {
    "1": "transaction set not supported",
    "2": "transaction set trailer (SE) missing",
    "3": "transaction set control number in header (ST02) and trailer (SE02) do not match",
    "4": "number of included segments (SE01) does not match the actual count",
    "5": "one or more segments in error",
    "6": "missing or invalid transaction set identifier (ST01)",
    "7": "missing or invalid transaction set control number (ST02)",
    "23": "transaction set control number (ST02) not unique within the functional group",
}

# AK905 (716): why a functional group is not accepted
GROUP_ERRORS = {
    "1": "functional group not supported",
    "2": "functional group version not supported",
    "3": "functional group trailer (GE) missing",
    "4": "group control number in header (GS06) and trailer (GE02) do not match",
    "5": "number of included transaction sets (GE01) does not match the actual count",
    "6": "group control number (GS06) not unique",
}

# TA105 (I18): interchange note codes
INTERCHANGE_NOTES = {
    "000": "no error",
    "001": "interchange control number in header (ISA13) and trailer (IEA02) do not match",
    "002": "this standard as noted in the control standards identifier (ISA11) is not supported",
    "003": "this version of the controls (ISA12) is not supported",
    "004": "the segment terminator is invalid",
    "005": "invalid interchange ID qualifier for sender (ISA05)",
    "006": "invalid interchange sender ID (ISA06)",
    "007": "invalid interchange ID qualifier for receiver (ISA07)",
    "008": "invalid interchange receiver ID (ISA08)",
    "009": "unknown interchange receiver ID (ISA08)",
    "010": "invalid authorization information qualifier (ISA01)",
    "011": "invalid authorization information value (ISA02)",
    "012": "invalid security information qualifier (ISA03)",
    "013": "invalid security information value (ISA04)",
    "014": "invalid interchange date (ISA09)",
    "015": "invalid interchange time (ISA10)",
    "016": "invalid interchange standards identifier (ISA11)",
    "017": "invalid interchange version ID (ISA12)",
    "018": "invalid interchange control number (ISA13)",
    "019": "invalid acknowledgment requested (ISA14)",
    "020": "invalid test indicator (ISA15)",
    "021": "invalid number of included groups (IEA01)",
    "022": "invalid control structure",
    "023": "improper (premature) end of file: interchange trailer (IEA) missing",
    "024": "invalid interchange content (e.g. invalid GS segment)",
    "025": "duplicate interchange control number (ISA13)",
    "026": "invalid data element separator",
    "027": "invalid component element separator",
}

# AK501 / AK901 / TA104 acknowledgement codes
ACCEPTED = "A"
ACCEPTED_WITH_ERRORS = "E"
PARTIALLY_ACCEPTED = "P"
REJECTED = "R"

ACK_CODE_WORDS = {
    ACCEPTED: "accepted",
    ACCEPTED_WITH_ERRORS: "accepted with errors",
    PARTIALLY_ACCEPTED: "partially accepted (some transaction sets rejected)",
    REJECTED: "rejected",
}

# The functional identifier code (GS01) of each transaction set this engine knows
FUNCTIONAL_IDS = {
    "940": "OW",
    "945": "SW",
    "943": "AR",
    "944": "RE",
    "846": "IB",
    "856": "SH",
    "214": "QM",
    "210": "IM",
    "997": "FA",
}
