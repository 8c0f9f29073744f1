"""The structure of a transaction set: segment order, mandatory segments, loops and their
repeat limits, checked by a state machine fed one segment at a time (997 segment error codes,
AK304)."""

import re

from .elements import SegmentChecker
from .report import SegmentFinding, describe_segment_code
from .spec import DEFAULT_RULES, LoopSpec

_TAG = re.compile(r"[A-Z][A-Z0-9]{1,2}\Z")


def _tags_within(children):
    tags = set()
    for child in children:
        if isinstance(child, LoopSpec):
            tags |= _tags_within(child.children)
        else:
            tags.add(child.tag)
    return tags


# per tuple of loop children (specs live as long as the process): where each tag starts,
# and which children are mandatory
_POSITIONS = {}
_REQUIRED = {}


def _positions(children):
    """{tag: (indexes of the children it starts)} of one loop's children, cached."""
    key = id(children)
    found = _POSITIONS.get(key)
    if found is None or found[0] is not children:
        positions = {}
        for index, child in enumerate(children):
            tag = child.trigger if isinstance(child, LoopSpec) else child.tag
            positions.setdefault(tag, []).append(index)
        found = _POSITIONS[key] = (children, {t: tuple(i) for t, i in positions.items()})
        _REQUIRED[key] = tuple(i for i, child in enumerate(children) if child.required)
    return found[1]


class _Frame:
    """An open loop instance: ``index`` is the slot last matched, ``count`` its uses (or,
    for a child loop slot, how many instances of it were opened)."""

    __slots__ = ("children", "count", "first", "index", "kids", "loop", "positions", "required")

    def __init__(self, loop, children, index=-1, count=0):
        self.loop = loop  # LoopSpec, or None for the set's body
        self.children = children
        self.index = index
        self.count = count
        positions = _POSITIONS.get(id(children))
        self.positions = (
            positions[1] if positions and positions[0] is children else _positions(children)
        )
        # a loop's trigger segment opens a new instance: it is matched one level up
        self.first = 0 if loop is None else 1
        required = _REQUIRED[id(children)]
        # a loop's trigger is always there once the loop is open: only the rest can be missing
        self.required = required[1:] if loop is not None and required[:1] == (0,) else required
        self.kids = {}  # frames of the child loops opened before, reused by the next instance


class SetValidator:
    """Validate one transaction set, segment by segment (ST and SE excluded)."""

    def __init__(self, spec, result, delimiters, known_tags, checkers, rules=DEFAULT_RULES):
        self.spec = spec
        self.result = result
        self.delimiters = delimiters
        self.known_tags = known_tags
        self.checkers = checkers
        self.rules = rules
        self.stack = [_Frame(None, spec.body)]
        self.all_tags = spec.tags()

    def _finding(self, tag, position, code, detail, number, elements=()):
        finding = SegmentFinding(tag, position, code, detail, number, elements=list(elements))
        tolerated = self.rules.tolerated
        if tolerated:
            codes = {f"AK3:{code}"} if not elements else {f"AK4:{e.code}" for e in elements}
            finding.tolerated = codes <= tolerated
        self.result.add(finding)

    def _missing(self, children, start, stop, position, number, before):
        """Report mandatory slots in ``children[start:stop]`` as missing (seen when
        segment ``before`` came)."""
        for index in _REQUIRED[id(children)]:
            if index < start or (stop is not None and index >= stop):
                continue
            child = children[index]
            where = f"before {before}"
            if child.required:
                tag = child.trigger if isinstance(child, LoopSpec) else child.tag
                what = f"the {tag} loop" if isinstance(child, LoopSpec) else f"segment {tag}"
                self._finding(
                    tag,
                    position,
                    "3",
                    f"{what} is mandatory but missing (expected {where})",
                    number,
                )

    def feed(self, raw, position, number):
        """Check segment ``raw`` (``[tag, element1, ...]``) at ``position`` (counted from
        ST = 1), the ``number``-th segment of the file."""
        tag = raw[0]
        if self._place(tag, position, number):
            checker = self.checkers.get(tag)
            if checker is None:
                checker = self.checkers[tag] = SegmentChecker(
                    self.spec.segments[tag], self.rules.charset
                )
            elif tuple(raw) in checker.clean:
                return  # the very same segment was already found clean
            element_findings = checker.check(raw, self.delimiters)
            if element_findings:
                self._finding(
                    tag,
                    position,
                    "8",
                    describe_segment_code("8"),
                    number,
                    element_findings,
                )

    def _place(self, tag, position, number):
        stack = self.stack
        for depth in range(len(stack) - 1, -1, -1):
            frame = stack[depth]
            indexes = frame.positions.get(tag)
            if indexes is None:
                continue
            start = frame.index if frame.index > frame.first else frame.first
            for index in indexes:
                if index >= start:
                    break
            else:
                continue
            children = frame.children
            child = children[index]
            is_loop = child.__class__ is LoopSpec
            reuse = None
            if len(stack) > depth + 1:
                # close the loops opened inside this frame
                for inner in reversed(stack[depth + 1 :]):
                    if inner.required:
                        self._missing(inner.children, inner.index + 1, None, position, number, tag)
                if is_loop and index == frame.index:
                    reuse = stack[depth + 1]  # the previous instance of this very loop
                del stack[depth + 1 :]
            if index == frame.index:
                frame.count += 1
                limit = child.max_repeat if is_loop else child.max_use
                if frame.count > limit:
                    if is_loop:
                        self._finding(
                            tag,
                            position,
                            "4",
                            f"the {tag} loop occurs {frame.count} times, at most {limit}",
                            number,
                        )
                    else:
                        self._finding(
                            tag,
                            position,
                            "5",
                            f"segment {tag} is used {frame.count} times here, at most {limit}",
                            number,
                        )
            else:
                self._missing(children, frame.index + 1, index, position, number, tag)
                frame.index = index
                frame.count = 1
            if is_loop:
                if reuse is None:
                    reuse = frame.kids.get(index)
                    if reuse is None:
                        reuse = frame.kids[index] = _Frame(child, child.children, 0, 1)
                reuse.index, reuse.count = 0, 1
                stack.append(reuse)
            return True
        self._misplaced(tag, position, number)
        return False

    def _misplaced(self, tag, position, number):
        if not _TAG.match(tag) or tag not in self.known_tags:
            code, detail = "1", f"{tag!r} is not a segment this engine knows"
        elif tag not in self.all_tags:
            code = "6"
            detail = f"segment {tag} is not part of transaction set {self.spec.set_id}"
        elif any(
            tag in _tags_within(frame.children[: max(frame.index, 0)]) for frame in self.stack
        ):
            code = "7"
            detail = f"segment {tag} comes too late: it belongs before the segments already read"
        else:
            code = "2"
            detail = f"segment {tag} is not expected here (it belongs in another loop)"
        self._finding(tag, position, code, detail, number)

    def close(self, position, number):
        """At the SE: everything mandatory still open is missing."""
        for frame in reversed(self.stack):
            self._missing(frame.children, frame.index + 1, None, position, number, "SE")
        self.stack = self.stack[:1]
