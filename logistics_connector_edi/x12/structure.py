"""The structure of a transaction set: segment order, mandatory segments, loops and their
repeat limits (997 segment error codes, AK304).

``StructureMachine`` compiles a set's body into states: a state is the stack of open loops
with the slot last matched in each; its transitions (worked out the first time a tag is
seen in that state, then kept) say where the next state is, which use counter to bump or
reset and which findings the move itself makes (mandatory segments skipped, a segment out
of place). Only the use counters change at run time: a valid file costs one dictionary
look-up and a few list operations per segment.
"""

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


def _never_clean(_text):
    """The fast path of a segment without one: every text goes to the element checks."""
    return False


def _depth(children):
    """How deep loops nest in ``children`` (0: no loop)."""
    return max(
        (1 + _depth(c.children) for c in children if isinstance(c, LoopSpec)),
        default=0,
    )


class _Frame:
    """What a state knows of one open loop (or of the set's body, ``is_loop`` False)."""

    __slots__ = ("children", "first", "is_loop", "positions", "required")

    def __init__(self, children, is_loop):
        self.children = children
        self.is_loop = is_loop
        positions = {}
        for index, child in enumerate(children):
            tag = child.trigger if isinstance(child, LoopSpec) else child.tag
            positions.setdefault(tag, []).append(index)
        self.positions = {tag: tuple(indexes) for tag, indexes in positions.items()}
        # a loop's trigger segment opens a new instance: it is matched one level up
        self.first = 1 if is_loop else 0
        self.required = tuple(
            i for i, child in enumerate(children) if child.required and not (is_loop and i == 0)
        )


class _State:
    """A stack of (frame, slot index); ``transitions`` maps a tag to
    (next state's transitions, depth, limit, push_at, extra, match):

    - ``depth``: the stack level whose use counter the segment bumps (``limit`` > 0: the
      same slot again, at most ``limit`` uses) or resets (``limit`` 0: a new slot);
    - ``push_at``: the level of the loop instance the segment opens (its counter starts at
      1), or the scratch level when it opens none;
    - ``extra``: None, or (findings, placed): findings as (tag, AK304 code, detail) made by
      the move, and whether the segment found a place at all;
    - ``match``: the fast element check of the segment's text (see ``element_match``).
    """

    __slots__ = ("close", "stack", "transitions")

    def __init__(self, stack):
        self.stack = stack
        self.transitions = {}
        self.close = None


class StructureMachine:
    """The compiled structure of one transaction set spec."""

    def __init__(self, spec, known_tags, element_match=None):
        """:param element_match: callable tag -> callable(segment text) that is true when
        the text is clean (a fast path, see ``elements.segment_matcher``); the moves
        carry it so the reader needs no look-up of its own"""
        self.spec = spec
        self.known_tags = known_tags
        self._element_match = element_match or (lambda _tag: _never_clean)
        self._matches = {}
        self.all_tags = spec.tags()
        self.depth = _depth(spec.body)
        self.scratch = self.depth + 1  # a counter slot nobody reads
        self._frames = {}
        self._states = {}
        self._by_transitions = {}
        self.start = self._state(((self._frame(spec.body, False), -1),))

    def new_counters(self):
        return [0] * (self.depth + 2)

    def _frame(self, children, is_loop):
        key = (id(children), is_loop)
        frame = self._frames.get(key)
        if frame is None:
            frame = self._frames[key] = _Frame(children, is_loop)
        return frame

    def _state(self, stack):
        key = tuple((id(frame), index) for frame, index in stack)
        state = self._states.get(key)
        if state is None:
            state = self._states[key] = _State(stack)
            self._by_transitions[id(state.transitions)] = state
        return state

    # --- moves ---------------------------------------------------------------------

    def transition(self, transitions, tag):
        """The move for ``tag`` from the state owning ``transitions``; kept for the tags of
        this set (a file full of unknown tags must not grow the table)."""
        state = self._by_transitions[id(transitions)]
        move = self._move(state, tag)
        if tag in self.all_tags:
            transitions[tag] = move
        return move

    def _missing(self, frame, start, stop, before, findings):
        for index in frame.required:
            if index < start or (stop is not None and index >= stop):
                continue
            child = frame.children[index]
            if isinstance(child, LoopSpec):
                what = f"the {child.trigger} loop"
                tag = child.trigger
            else:
                what = f"segment {child.tag}"
                tag = child.tag
            findings.append(
                (tag, "3", f"{what} is mandatory but missing (expected before {before})")
            )

    def _move(self, state, tag):
        stack = state.stack
        for depth in range(len(stack) - 1, -1, -1):
            frame, current = stack[depth]
            indexes = frame.positions.get(tag)
            if indexes is None:
                continue
            start = current if current > frame.first else frame.first
            for index in indexes:
                if index >= start:
                    break
            else:
                continue
            findings = []
            # close the loops opened inside this frame
            for inner, inner_index in reversed(stack[depth + 1 :]):
                self._missing(inner, inner_index + 1, None, tag, findings)
            child = frame.children[index]
            is_loop = isinstance(child, LoopSpec)
            if index == current:
                limit = child.max_repeat if is_loop else child.max_use
            else:
                self._missing(frame, current + 1, index, tag, findings)
                limit = 0
            new_stack = (*stack[:depth], (frame, index))
            push_at = self.scratch
            if is_loop:
                new_stack = (*new_stack, (self._frame(child.children, True), 0))
                push_at = depth + 1
            extra = (tuple(findings), True) if findings else None
            match = self._matches.get(tag)
            if match is None:
                match = self._matches[tag] = self._element_match(tag) or _never_clean
            return (self._state(new_stack).transitions, depth, limit, push_at, extra, match)
        return (
            state.transitions,
            self.scratch,
            0,
            self.scratch,
            (self._misplaced(state, tag), False),
            _never_clean,
        )

    def _misplaced(self, state, tag):
        if not _TAG.match(tag) or tag not in self.known_tags:
            code, detail = "1", f"{tag!r} is not a segment this engine knows"
        elif tag not in self.all_tags:
            code = "6"
            detail = f"segment {tag} is not part of transaction set {self.spec.set_id}"
        elif any(
            tag in _tags_within(frame.children[: max(index, 0)]) for frame, index in state.stack
        ):
            code = "7"
            detail = f"segment {tag} comes too late: it belongs before the segments already read"
        else:
            code = "2"
            detail = f"segment {tag} is not expected here (it belongs in another loop)"
        return ((tag, code, detail),)

    def closing(self, transitions):
        """Findings at the SE from the state owning ``transitions``: everything mandatory
        still open is missing."""
        state = self._by_transitions[id(transitions)]
        if state.close is None:
            findings = []
            for frame, index in reversed(state.stack):
                self._missing(frame, index + 1, None, "SE", findings)
            state.close = tuple(findings)
        return state.close


class SetValidator:
    """Validate one transaction set, segment by segment (ST and SE excluded).

    The reader drives ``transitions``/``counters`` itself on its hot path; ``feed`` does
    the same one segment at a time, for callers that have a segment in hand.
    """

    def __init__(self, machine, result, delimiters, checkers, rules=DEFAULT_RULES):
        self.machine = machine
        self.spec = machine.spec
        self.result = result
        self.delimiters = delimiters
        self.checkers = checkers
        self.rules = rules
        self.transitions = machine.start.transitions
        self.counters = machine.new_counters()

    def finding(self, tag, position, code, detail, number, elements=()):
        finding = SegmentFinding(tag, position, code, detail, number, elements=list(elements))
        tolerated = self.rules.tolerated
        if tolerated:
            codes = {f"AK3:{code}"} if not elements else {f"AK4:{e.code}" for e in elements}
            finding.tolerated = codes <= tolerated
        self.result.add(finding)

    def emit(self, extra, position, number):
        """Write the findings of a move; returns whether the segment found a place."""
        findings, placed = extra
        for tag, code, detail in findings:
            self.finding(tag, position, code, detail, number)
        return placed

    def over_limit(self, push_at, tag, count, limit, position, number):
        """AK304 4 or 5 for the ``count``-th use of a slot allowed ``limit`` times: a loop
        when the move opened a loop instance (``push_at`` is not the scratch level)."""
        if push_at != self.machine.scratch:
            self.finding(
                tag, position, "4", f"the {tag} loop occurs {count} times, at most {limit}", number
            )
        else:
            self.finding(
                tag,
                position,
                "5",
                f"segment {tag} is used {count} times here, at most {limit}",
                number,
            )

    def check_elements(self, raw, position, number):
        """Element checks of ``raw`` (``[tag, element1, ...]``); returns whether it is clean."""
        tag = raw[0]
        checker = self.checkers.get(tag)
        if checker is None:
            checker = self.checkers[tag] = SegmentChecker(
                self.spec.segments[tag],
                self.rules.charset,
                "12" if self.spec.version >= "005010" else "6",
            )
        element_findings = checker.check(raw, self.delimiters)
        if element_findings:
            self.finding(tag, position, "8", describe_segment_code("8"), number, element_findings)
            return False
        return True

    def feed(self, raw, position, number):
        """Check segment ``raw`` (``[tag, element1, ...]``) at ``position`` (counted from
        ST = 1), the ``number``-th segment of the file."""
        tag = raw[0]
        move = self.transitions.get(tag) or self.machine.transition(self.transitions, tag)
        self.transitions, depth, limit, push_at, extra, _match = move
        if extra is not None and not self.emit(extra, position, number):
            return
        counters = self.counters
        if limit:
            count = counters[depth] = counters[depth] + 1
            if count > limit:
                self.over_limit(push_at, tag, count, limit, position, number)
        else:
            counters[depth] = 1
        counters[push_at] = 1
        self.check_elements(raw, position, number)

    def close(self, position, number):
        """At the SE: everything mandatory still open is missing."""
        for tag, code, detail in self.machine.closing(self.transitions):
            self.finding(tag, position, code, detail, number)
        self.transitions = self.machine.start.transitions
