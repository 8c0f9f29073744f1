"""Findings of a validation run: per interchange, group and transaction set, with the 997
and TA1 codes they stand for and their meaning in plain words."""

from dataclasses import dataclass, field

from .codes import (
    ACCEPTED,
    ACCEPTED_WITH_ERRORS,
    ACK_CODE_WORDS,
    ELEMENT_ERRORS,
    GROUP_ERRORS,
    INTERCHANGE_NOTES,
    PARTIALLY_ACCEPTED,
    REJECTED,
    SEGMENT_ERRORS,
    SET_ERRORS,
)

# how many segment findings one set keeps (the rest is counted): a broken file must not
# exhaust memory, and nobody reads the 10,001st finding
MAX_SEGMENT_FINDINGS = 1000


@dataclass
class ElementFinding:
    """An AK4: element ``position`` (1-based) of a segment, ``component`` in a composite."""

    position: int
    code: str
    detail: str
    ref: int | None = None
    value: str | None = None
    component: int | None = None
    name: str = ""

    def words(self, tag):
        where = f"{tag}{self.position:02d}"
        if self.component:
            where += f"-{self.component}"
        label = f"{where} ({self.name})" if self.name else where
        return f"element {label}: {self.detail}"


@dataclass
class SegmentFinding:
    """An AK3: segment ``tag`` at ``position`` counted from ST = 1."""

    tag: str
    position: int
    code: str
    detail: str
    file_segment: int | None = None
    loop: str = ""
    elements: list = field(default_factory=list)
    tolerated: bool = False

    def words(self):
        where = f"segment {self.tag} at position {self.position} of the set"
        if self.file_segment:
            where += f" (segment {self.file_segment} of the file)"
        if self.elements:
            return [f"{where}: {e.words(self.tag)}" for e in self.elements]
        return [f"{where}: {self.detail}"]


@dataclass
class SetResult:
    set_id: str
    control_number: str
    first_segment: int
    segment_count: int = 0
    errors: list = field(default_factory=list)  # SegmentFinding
    set_errors: list = field(default_factory=list)  # (AK502 code, detail)
    dropped_findings: int = 0
    name: str = ""

    def add(self, finding):
        if len(self.errors) < MAX_SEGMENT_FINDINGS:
            self.errors.append(finding)
        else:
            self.dropped_findings += 1

    @property
    def code(self):
        """AK501."""
        if self.set_errors:
            return REJECTED
        if self.dropped_findings or any(not f.tolerated for f in self.errors):
            return REJECTED
        return ACCEPTED_WITH_ERRORS if self.errors else ACCEPTED

    @property
    def error_codes(self):
        """AK502..AK506 (at most 5)."""
        codes = [code for code, _detail in self.set_errors]
        if self.errors and "5" not in codes:
            codes.append("5")
        return codes[:5]

    @property
    def accepted(self):
        return self.code in (ACCEPTED, ACCEPTED_WITH_ERRORS)

    def words(self):
        lines = [f"{SET_ERRORS.get(code, code)}: {detail}" for code, detail in self.set_errors]
        for finding in self.errors:
            lines.extend(finding.words())
        if self.dropped_findings:
            lines.append(f"... and {self.dropped_findings} more segment findings")
        return lines


@dataclass
class GroupResult:
    functional_id: str
    sender: str
    receiver: str
    date: str
    time: str
    control_number: str
    version: str
    first_segment: int
    declared_sets: str | None = None
    sets: list = field(default_factory=list)
    group_errors: list = field(default_factory=list)  # (AK905 code, detail)

    @property
    def received(self):
        return len(self.sets)

    @property
    def accepted_count(self):
        return sum(1 for s in self.sets if s.accepted)

    @property
    def code(self):
        """AK901."""
        if self.group_errors:
            return REJECTED
        codes = {s.code for s in self.sets}
        if not codes:
            return REJECTED
        if codes == {ACCEPTED}:
            return ACCEPTED
        if REJECTED not in codes:
            return ACCEPTED_WITH_ERRORS
        return PARTIALLY_ACCEPTED if self.accepted_count else REJECTED

    @property
    def error_codes(self):
        return [code for code, _detail in self.group_errors][:5]

    def words(self):
        return [f"{GROUP_ERRORS.get(c, c)}: {detail}" for c, detail in self.group_errors]


@dataclass
class InterchangeResult:
    header: list  # ISA01..ISA16
    delimiters: object
    first_segment: int
    groups: list = field(default_factory=list)
    notes: list = field(default_factory=list)  # (TA1 note code, detail)
    declared_groups: str | None = None
    trailer_control_number: str | None = None

    @property
    def sender(self):
        return (self.header[4], self.header[5].rstrip())

    @property
    def receiver(self):
        return (self.header[6], self.header[7].rstrip())

    @property
    def control_number(self):
        return self.header[12]

    @property
    def date(self):
        return self.header[8]

    @property
    def time(self):
        return self.header[9]

    @property
    def usage(self):
        return self.header[14]

    @property
    def ack_requested(self):
        return self.header[13] == "1"

    @property
    def code(self):
        """TA104: an interchange with envelope errors is rejected as a whole."""
        return REJECTED if self.notes else ACCEPTED

    def words(self):
        return [f"{INTERCHANGE_NOTES.get(c, c)}: {detail}" for c, detail in self.notes]


@dataclass
class Report:
    """Everything found in one file."""

    interchanges: list = field(default_factory=list)
    unreadable: str | None = None

    @property
    def status(self):
        """ "accepted", "accepted_with_errors", "rejected" or "unreadable".

        Rejected as soon as anything in the file will not be applied (an interchange, a
        group or a single set); accepted with errors when everything applies but some
        findings were tolerated by the partner's rules.
        """
        if self.unreadable:
            return "unreadable"
        if not self.interchanges:
            return "unreadable"
        worst = "accepted"
        for interchange in self.interchanges:
            if interchange.code == REJECTED:
                return "rejected"
            if not interchange.groups:
                continue
            for group in interchange.groups:
                if group.code in (REJECTED, PARTIALLY_ACCEPTED):
                    return "rejected"
                if group.code == ACCEPTED_WITH_ERRORS:
                    worst = "accepted_with_errors"
        return worst

    @property
    def exit_status(self):
        return {"accepted": 0, "accepted_with_errors": 1, "rejected": 2, "unreadable": 3}[
            self.status
        ]

    def findings(self):
        """Every finding, one plain-words line each, prefixed with where it is."""
        lines = []
        for interchange in self.interchanges:
            prefix = f"interchange {interchange.control_number}"
            lines.extend(f"{prefix}: {line}" for line in interchange.words())
            for group in interchange.groups:
                group_prefix = f"{prefix}, group {group.control_number} ({group.functional_id})"
                lines.extend(f"{group_prefix}: {line}" for line in group.words())
                for result in group.sets:
                    set_prefix = f"{group_prefix}, set {result.set_id} {result.control_number}"
                    lines.extend(f"{set_prefix}: {line}" for line in result.words())
        if self.unreadable:
            lines.append(f"unreadable: {self.unreadable}")
        return lines

    def summary(self):
        """Counts and results, one line each, for people and scripts."""
        lines = []
        for interchange in self.interchanges:
            lines.append(
                f"interchange {interchange.control_number} from {'/'.join(interchange.sender)}"
                f" to {'/'.join(interchange.receiver)}: "
                f"{ACK_CODE_WORDS[interchange.code]}"
            )
            for group in interchange.groups:
                lines.append(
                    f"  group {group.control_number} ({group.functional_id}, {group.version}): "
                    f"{ACK_CODE_WORDS[group.code]}, {group.accepted_count} of {group.received}"
                    " sets accepted"
                )
        return lines

    def to_dict(self):
        return {
            "status": self.status,
            "unreadable": self.unreadable,
            "interchanges": [
                {
                    "control_number": i.control_number,
                    "sender": list(i.sender),
                    "receiver": list(i.receiver),
                    "code": i.code,
                    "notes": [{"code": c, "detail": d} for c, d in i.notes],
                    "groups": [
                        {
                            "functional_id": g.functional_id,
                            "control_number": g.control_number,
                            "version": g.version,
                            "code": g.code,
                            "errors": [{"code": c, "detail": d} for c, d in g.group_errors],
                            "sets": [
                                {
                                    "set_id": s.set_id,
                                    "control_number": s.control_number,
                                    "code": s.code,
                                    "errors": [{"code": c, "detail": d} for c, d in s.set_errors],
                                    "segments": [
                                        {
                                            "tag": f.tag,
                                            "position": f.position,
                                            "code": f.code,
                                            "detail": f.detail,
                                            "elements": [
                                                {
                                                    "position": e.position,
                                                    "component": e.component,
                                                    "code": e.code,
                                                    "detail": e.detail,
                                                    "value": e.value,
                                                }
                                                for e in f.elements
                                            ],
                                        }
                                        for f in s.errors
                                    ],
                                }
                                for s in g.sets
                            ],
                        }
                        for g in i.groups
                    ],
                }
                for i in self.interchanges
            ],
        }


def describe_segment_code(code):
    return SEGMENT_ERRORS.get(code, code)


def describe_element_code(code):
    return ELEMENT_ERRORS.get(code, code)
