"""Split an X12 file into segments, with the separators each ISA declares.

The ISA is fixed width (106 characters with its terminator): the element separator is its
4th character, the component separator its 105th (ISA16), the segment terminator its 106th
and, from version 00501 on, ISA11 is the repetition separator. A file may hold several
interchanges, each with its own separators. CR/LF after a terminator is tolerated.

Reading is streaming: the source is read in chunks and segments are yielded one by one.
"""

import codecs
import io
import os
from dataclasses import dataclass

from .errors import UnreadableFile

ISA_LENGTH = 106
# (element name, width) of ISA01..ISA16, in order
ISA_FIELDS = (
    ("Authorization Information Qualifier", 2),
    ("Authorization Information", 10),
    ("Security Information Qualifier", 2),
    ("Security Information", 10),
    ("Interchange ID Qualifier (sender)", 2),
    ("Interchange Sender ID", 15),
    ("Interchange ID Qualifier (receiver)", 2),
    ("Interchange Receiver ID", 15),
    ("Interchange Date", 6),
    ("Interchange Time", 4),
    ("Interchange Control Standards Identifier / Repetition Separator", 1),
    ("Interchange Control Version Number", 5),
    ("Interchange Control Number", 9),
    ("Acknowledgment Requested", 1),
    ("Usage Indicator", 1),
    ("Component Element Separator", 1),
)


def _separator_columns():
    columns, column = [], 3
    for _name, width in ISA_FIELDS[:-1]:
        columns.append(column)
        column += 1 + width
    columns.append(column)  # the separator before ISA16
    return tuple(columns)


# 0-based columns where the element separator must stand in a well-formed ISA
ISA_SEPARATOR_COLUMNS = _separator_columns()
LINE_BREAKS = "\r\n"
_INTERCHANGE_TAGS = frozenset(("ISA", "IEA"))


@dataclass(frozen=True)
class Delimiters:
    """The separators of one interchange."""

    element: str = "*"
    component: str = ">"
    segment: str = "~"
    repetition: str | None = None

    def all(self):
        return {c for c in (self.element, self.component, self.segment, self.repetition) if c}


class Segment:
    """One segment: its tag, its elements (ISA01.. not counting the tag) and its ordinal
    number in the file (1 = the first ISA), for findings in plain words."""

    __slots__ = ("elements", "number", "tag")

    def __init__(self, tag, elements, number):
        self.tag = tag
        self.elements = elements
        self.number = number

    def __repr__(self):
        return f"Segment({self.tag!r}, {self.elements!r}, {self.number})"

    def element(self, position, default=""):
        """Element at ``position`` (1-based), or ``default`` when absent."""
        return self.elements[position - 1] if position <= len(self.elements) else default


class InterchangeHeader(Segment):
    """The ISA segment, with the separators it declares."""

    __slots__ = ("delimiters",)

    def __init__(self, elements, number, delimiters):
        super().__init__("ISA", elements, number)
        self.delimiters = delimiters


def parse_isa(text, offset=0):
    """Read the fixed-width ISA at the start of ``text``.

    :returns: (list of ISA01..ISA16, Delimiters)
    :raises UnreadableFile: with what is wrong, in plain words
    """
    if not text.startswith("ISA"):
        raise UnreadableFile(
            f"expected an interchange header 'ISA' at character {offset + 1}, found {text[:20]!r}",
            offset=offset,
        )
    if len(text) < ISA_LENGTH:
        raise UnreadableFile(
            f"the file ends inside the ISA segment at character {offset + 1}: an ISA is "
            f"exactly {ISA_LENGTH} characters long, only {len(text)} found",
            offset=offset,
        )
    element = text[3]
    if element.isalnum() or element in " \r\n":
        raise UnreadableFile(
            f"the ISA at character {offset + 1} has {element!r} as element separator: it must "
            "be a special character such as '*'",
            offset=offset,
        )
    for index, column in enumerate(ISA_SEPARATOR_COLUMNS):
        if text[column] != element:
            number = index  # the element before this separator has the wrong width
            name, width = ISA_FIELDS[number - 1] if number else ("", 0)
            raise UnreadableFile(
                f"malformed ISA at character {offset + 1}: ISA{number:02d} ({name}) must be "
                f"exactly {width} characters wide (the ISA is fixed width, {ISA_LENGTH} "
                f"characters); the element separator {element!r} was expected at column "
                f"{column + 1}, found {text[column]!r}",
                offset=offset,
            )
    elements = []
    for index, column in enumerate(ISA_SEPARATOR_COLUMNS):
        width = ISA_FIELDS[index][1]
        value = text[column + 1 : column + 1 + width]
        if element in value:
            raise UnreadableFile(
                f"malformed ISA at character {offset + 1}: ISA{index + 1:02d} contains the "
                f"element separator {element!r}",
                offset=offset,
            )
        elements.append(value)
    component = elements[15]
    terminator = text[ISA_LENGTH - 1]
    if component.isalnum() or component in (element, " "):
        raise UnreadableFile(
            f"the ISA at character {offset + 1} declares {component!r} as component separator "
            "(ISA16): it must be a special character different from the element separator",
            offset=offset,
        )
    if terminator.isalnum() or terminator in (element, component, " "):
        raise UnreadableFile(
            f"the ISA at character {offset + 1} ends with {terminator!r} as segment "
            "terminator: it must be a special character (or a line break) different from the "
            "element and component separators",
            offset=offset,
        )
    repetition = None
    if elements[11] >= "00501" and not elements[10].isalnum():
        repetition = elements[10]
        if repetition in (element, component, terminator):
            raise UnreadableFile(
                f"the ISA at character {offset + 1} uses {repetition!r} as repetition "
                "separator (ISA11), which is already another separator",
                offset=offset,
            )
    return elements, Delimiters(element, component, terminator, repetition)


def _text_chunks(source, chunk_size):
    """Decoded text chunks of ``source``: X12 text (str), bytes, a path (``pathlib.Path``)
    or a file object.

    Bytes that are not valid UTF-8 (ASCII is a subset) are kept as surrogate escapes, so the
    validator can name the exact byte instead of guessing an encoding.
    """
    if isinstance(source, str):
        for index in range(0, len(source), chunk_size):
            yield source[index : index + chunk_size]
        return
    if isinstance(source, bytes | bytearray):
        source = io.BytesIO(source)
    close = False
    if isinstance(source, os.PathLike):
        source = open(source, "rb")
        close = True
    try:
        decoder = None
        while True:
            chunk = source.read(chunk_size)
            if not chunk:
                break
            if isinstance(chunk, bytes):
                if decoder is None:
                    decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
                chunk = decoder.decode(chunk)
            if chunk:
                yield chunk
        if decoder is not None:
            tail = decoder.decode(b"", final=True)
            if tail:
                yield tail
    finally:
        if close:
            source.close()


def iter_segments(source, chunk_size=1 << 16):
    """Yield the segments of ``source``: an InterchangeHeader for each ISA, a Segment for
    every other one, numbered from 1 in file order. After an IEA the next ISA is read
    fixed-width again (its separators may differ).

    :raises UnreadableFile: when an ISA is missing or malformed (segments before it were
        already yielded)
    """
    number = 0
    for raw in iter_raw_segments(source, chunk_size):
        number += 1
        if raw.__class__ is list:
            yield Segment(raw[0], raw[1:], number)
        else:
            raw.number = number
            yield raw


def iter_raw_segments(source, chunk_size=1 << 16):
    """``iter_segments`` without an object per segment: an InterchangeHeader for each ISA
    and, for every other segment, a plain list ``[tag, element1, ...]``."""
    separator = None
    for block in iter_raw_blocks(source, chunk_size):
        if block.__class__ is list:
            for raw in block:
                yield raw.split(separator)
        else:
            separator = block.delimiters.element
            yield block


def _segment_texts(text, terminator):
    """The segments of ``text`` (complete segments without the last terminator), with the
    line breaks around them removed and empty ones dropped."""
    if "\r" not in text:
        texts = None
        if "\n" not in text:
            texts = text.split(terminator)
        else:
            # the usual layout, one segment per line: if every line break follows a
            # terminator and every terminator is followed by one, a split does it all
            text = text.lstrip("\n")
            line_ended = terminator + "\n"
            if text.count("\n") == text.count(line_ended) == text.count(terminator):
                texts = text.split(line_ended)
        if texts is not None:
            if "" in texts:
                texts = [raw for raw in texts if raw]
            return texts
    texts = []
    for raw in text.split(terminator):
        # raw[:1] is "" for an empty segment, which "in" also matches: skipped below
        if raw[:1] in LINE_BREAKS or raw[-1:] == "\r":
            raw = raw.strip(LINE_BREAKS)
            if not raw:
                continue
        texts.append(raw)
    return texts


def iter_raw_blocks(source, chunk_size=1 << 16):
    """What the validator reads: an InterchangeHeader for each ISA and, in between, lists
    of segment texts (not split into elements yet; line breaks around them removed; empty
    segments dropped). A list never runs past an IEA: the next interchange may use other
    separators."""
    chunks = _text_chunks(source, chunk_size)
    buffer = ""
    start = 0  # offset of buffer[0] in the file
    pos = 0
    delimiters = None
    exhausted = False

    def more():
        nonlocal buffer, pos, start, exhausted
        if exhausted:
            return False
        chunk = next(chunks, None)
        if chunk is None:
            exhausted = True
            return False
        if pos:
            start += pos
            buffer = buffer[pos:]
            pos = 0
        buffer += chunk
        return True

    while True:
        if delimiters is None:
            # between interchanges: skip line breaks and blanks (and a byte order mark)
            while True:
                while pos < len(buffer) and buffer[pos] in " \t\r\n\ufeff":
                    pos += 1
                if pos < len(buffer) or not more():
                    break
            if pos >= len(buffer):
                return
            while len(buffer) - pos < ISA_LENGTH and more():
                pass
            elements, delimiters = parse_isa(buffer[pos : pos + ISA_LENGTH], start + pos)
            yield InterchangeHeader(elements, 0, delimiters)
            pos += ISA_LENGTH
            continue
        terminator = delimiters.segment
        separator = delimiters.element
        end = buffer.rfind(terminator, pos)
        if end < 0:
            if more():
                continue
            rest = buffer[pos:].strip(LINE_BREAKS)
            pos = len(buffer)
            if rest:
                # an unterminated last segment still counts: the validator reports what
                # is missing after it (e.g. the IEA)
                yield [rest]
            return
        # every complete segment in the buffer at once
        text = buffer[pos:end]
        block_start = pos
        pos = end + 1
        if "ISA" not in text and "IEA" not in text:
            texts = _segment_texts(text, terminator)
            if texts:
                yield texts
            continue
        # an interchange may end (or a new one start) in here: find where, segment by
        # segment, and read the next ISA fixed-width from its own offset
        raws = text.split(terminator)
        texts = []
        for index, raw in enumerate(raws):
            if raw[:1] in LINE_BREAKS or raw[-1:] == "\r":
                raw = raw.strip(LINE_BREAKS)
                if not raw:
                    continue
            tag, found, _rest = raw.partition(separator)
            if tag in _INTERCHANGE_TAGS:
                if tag == "IEA":
                    texts.append(raw)
                    index += 1  # the next interchange starts after this terminator
                elif not found:
                    texts.append(raw)  # a lone "ISA" is an odd segment, not a header
                    continue
                pos = block_start + sum(len(r) + 1 for r in raws[:index])
                delimiters = None
                break
            texts.append(raw)
        if texts:
            yield texts
