"""A readable listing of an X12 file: one segment per line, numbered, indented by envelope
level, with the findings of the validator next to the segments they concern."""

from .errors import UnreadableFile
from .tokenizer import iter_segments

_LEVEL = {"ISA": 0, "IEA": 0, "GS": 1, "GE": 1, "ST": 2, "SE": 2}


def segment_lines(source, report=None, limit=2000):
    """Lines like ``"   7      W12 | CC | 5 | 5"``: file segment number, position in the set,
    the segment with its elements separated by " | ". Findings of ``report`` follow the
    segment they are about (prefixed "!!"). At most ``limit`` segments are listed."""
    notes = {}
    if report is not None:
        for interchange in report.interchanges:
            for group in interchange.groups:
                for result in group.sets:
                    for finding in result.errors:
                        if finding.file_segment:
                            notes.setdefault(finding.file_segment, []).extend(finding.words())
    lines = []
    position = 0
    try:
        for segment in iter_segments(source):
            if segment.number > limit:
                lines.append(f"... (listing stops after {limit} segments)")
                break
            tag = segment.tag
            if tag == "ST":
                position = 1
            elif position:
                position += 1
            level = _LEVEL.get(tag, 3)
            shown = (
                " | ".join([tag, *segment.elements])
                if tag != "ISA"
                else "*".join(["ISA", *segment.elements])
            )
            in_set = str(position) if position else ""
            lines.append(f"{segment.number:>6} {in_set:>5}  {'  ' * level}{shown}")
            for note in notes.get(segment.number, ()):
                lines.append(f"{'':>12}  !! {note}")
            if tag == "SE":
                position = 0
    except UnreadableFile as error:
        lines.append(f"!! unreadable: {error}")
    return lines
