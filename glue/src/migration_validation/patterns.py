"""Contract patterns, checked in time linear in the input, whatever the pattern.

Python's ``re`` backtracks: ``(a+)+`` or a "not blank" ``.*\\S.*`` can take
exponential or quadratic time on one unlucky value, and one regex call over
a whole batch multiplied that across the values of the batch. So every
pattern is analysed once, at contract load (:func:`compile_pattern`), and
runs in one of three modes:

``linear``
    Every choice the pattern makes (repeat once more or stop; which branch
    of an alternation) is decided by the next character alone, the pattern
    is LL(1). Then committing each choice (possessive repeats, atomic
    branches) cannot change what matches, and the committed pattern runs in
    ``re`` without backtracking. Most contract patterns (codes, ids, dates,
    ``[A-Z]{2}[0-9]+``) are here.
``bounded``
    Some choices need more than one character, but none sits inside a
    repeated part, so ``re``'s work on a value of length L is at most about
    ``A * (L + 1) ** k`` attempts of L steps (k undecided repeats, A the
    product of undecided alternatives). Values short enough for that to stay
    under a small constant times L go to ``re``; longer ones go to the
    automaton below. The e-mail pattern ``[^@\\s]+@[^@\\s]+\\.[A-Za-z]{2,}``
    is here (k = 1).
``automaton``
    Everything else regular (an undecided choice inside a repeat, such as
    ``(a+)+`` or ``(a|ab)*``): a lazily built DFA over the pattern's Glushkov
    automaton, one dictionary step per character, built from the same
    character classes ``re`` uses, so it matches exactly what ``re.fullmatch``
    would.

A batch of values is matched as one ``re`` call over the ``\\n``-joined
values when the pattern cannot match a newline, with each value's match in
an atomic group and a possessive loop over the values, so a failing value
can never make ``re`` revisit the values before it.

Patterns that are not regular, or that could only be made safe by changing
what they match, are refused at contract load with a :class:`PatternError`:
backreferences, lookaround, conditionals, ``\\b``/``\\B``, anchors other than
a leading ``^``/``\\A`` and a trailing ``$``/``\\Z`` (``fullmatch`` already
anchors both ends), possessive quantifiers and atomic groups written in the
contract (they change the language; the validator adds its own where they
change nothing), and bounded repeats that expand past
``MAX_POSITIONS`` character positions.
"""

from __future__ import annotations

import codecs
import re
import sys
from array import array
from functools import lru_cache
from re import _compiler as _cc  # Python 3.11 (Glue 5): the re module's parser and compiler
from re import _constants as _c
from re import _parser as _p
from typing import Optional

MAX_POSITIONS = 4000  # character positions of the expanded automaton
MAX_DFA_STATES = 10000  # cached DFA states before the cache is dropped (memory bound)
BOUNDED_BUDGET = 64  # re attempts per value allowed in "bounded" mode (times L steps each)
LINEAR, BOUNDED, AUTOMATON = "linear", "bounded", "automaton"

_NEWLINE = 10
_REPEATS = (_c.MAX_REPEAT, _c.MIN_REPEAT)
_ATOMS = (_c.LITERAL, _c.NOT_LITERAL, _c.ANY, _c.IN, _c.CATEGORY)
_BEGIN = (_c.AT_BEGINNING, _c.AT_BEGINNING_STRING)
_END = (_c.AT_END, _c.AT_END_STRING)
_ALL_CHARS = None


class PatternError(ValueError):
    """A contract pattern cannot be checked safely; the message says why and what to write instead."""


class CompiledPattern:
    """``fullmatch(text) -> bool`` and ``all_match(values) -> bool`` for one pattern."""

    __slots__ = ("pattern", "mode", "max_re_length", "_single", "_joined", "_dfa")

    def __init__(self, pattern: str, mode: str, single, joined, dfa, max_re_length: int):
        self.pattern = pattern
        self.mode = mode
        self.max_re_length = max_re_length  # bounded mode: longest value given to re
        self._single = single
        self._joined = joined
        self._dfa = dfa

    def fullmatch(self, text: str) -> bool:
        if self.mode == LINEAR or (self.mode == BOUNDED and len(text) <= self.max_re_length):
            return self._single(text) is not None
        return self._dfa.fullmatch(text)

    def all_match(self, values, longest: Optional[int] = None) -> bool:
        """True only if every value fully matches. ``longest`` is the length
        of the longest value, if the caller knows it already."""
        if self.mode == AUTOMATON:
            return all(map(self._dfa.fullmatch, values))
        if self._joined is not None and self.mode == BOUNDED and longest is None:
            longest = max(map(len, values), default=0)
        if self._joined is not None and (self.mode == LINEAR or longest <= self.max_re_length):
            text = "\n".join(values)
            if text.count("\n") == len(values) - 1:  # no value holds a newline
                return self._joined(text + "\n") is not None
        return all(map(self.fullmatch, values))


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> CompiledPattern:
    """Analyse ``pattern`` (see the module docstring); raise :class:`PatternError`
    when it cannot be checked in linear time."""
    try:
        tree = _p.parse(pattern)
    except re.error as err:
        raise PatternError(f"pattern does not compile: {err}") from None
    items = _strip_anchors(list(tree))
    analysis = _Analysis(tree.state)
    committed = analysis.rewrite(items, _Follow(frozenset(), True), inside_repeat=False)
    state = tree.state
    flags = state.flags
    single = _cc.compile(_p.SubPattern(state, committed), flags).fullmatch
    newline_free = _newline_free(items, bool(flags & re.DOTALL))
    if not analysis.undecided:
        mode, dfa, limit = LINEAR, None, 0
        loop_body = [_group(state, committed), (_c.LITERAL, _NEWLINE)]
    else:
        dfa = _Dfa(state, items)  # refuses patterns that expand too far
        limit = _bounded_length(analysis) if not analysis.undecided_in_repeat else 0
        mode = BOUNDED if limit > 0 else AUTOMATON
        loop_body = [(_c.ATOMIC_GROUP, _p.SubPattern(state, [_group(state, committed), (_c.LITERAL, _NEWLINE)]))]
    joined = None
    if newline_free and mode != AUTOMATON:
        loop = (_c.POSSESSIVE_REPEAT, (0, _c.MAXREPEAT, _p.SubPattern(state, loop_body)))
        joined = _cc.compile(_p.SubPattern(state, [loop]), flags).fullmatch
    return CompiledPattern(pattern, mode, single, joined, dfa, limit)


def _group(state, items: list) -> tuple:
    return (_c.SUBPATTERN, (None, 0, 0, _p.SubPattern(state, items)))


def _bounded_length(analysis: "_Analysis") -> int:
    """Longest L with ``A * (L + 1) ** k <= BOUNDED_BUDGET``."""
    k, factor = analysis.undecided_repeats, analysis.undecided_factor
    if factor > BOUNDED_BUDGET:
        return 0
    if k == 0:
        return sys.maxsize  # only alternatives: A attempts of L steps, whatever L
    length = 0
    while factor * (length + 2) ** k <= BOUNDED_BUDGET:
        length += 1
    return length


# -- refusing what is not regular, dropping the anchors fullmatch implies ------


def _strip_anchors(items: list) -> list:
    while items and items[0][0] is _c.AT and items[0][1] in _BEGIN:
        items = items[1:]
    while items and items[-1][0] is _c.AT and items[-1][1] in _END:
        items = items[:-1]
    if len(items) == 1 and items[0][0] is _c.SUBPATTERN:
        group, add, delete, sub = items[0][1]
        inner = _strip_anchors(list(sub))
        if len(inner) != len(sub):
            items = [(_c.SUBPATTERN, (group, add, delete, _p.SubPattern(sub.state, inner)))]
    return items


def _refuse(op, av) -> PatternError:
    if op is _c.AT:
        what = "a word boundary (\\b or \\B)" if av in (_c.AT_BOUNDARY, _c.AT_NON_BOUNDARY, _c.AT_UNI_BOUNDARY, _c.AT_UNI_NON_BOUNDARY) else "an anchor (^, $, \\A, \\Z) inside the pattern"
        hint = "the whole value is always matched, so anchors are only allowed at the very start and end"
    elif op in (_c.GROUPREF, _c.GROUPREF_EXISTS):
        what, hint = "a backreference or conditional group", "these are not regular; list the accepted forms instead"
    elif op in (_c.ASSERT, _c.ASSERT_NOT):
        what, hint = "a lookahead or lookbehind", "these cannot be checked in linear time; describe the value positively"
    elif op in (_c.POSSESSIVE_REPEAT, _c.ATOMIC_GROUP):
        what = "a possessive quantifier or atomic group"
        hint = "they change which values match; write the plain form, the validator makes it linear itself"
    else:
        what, hint = f"the construct {op}", "it is not supported"
    return PatternError(f"pattern uses {what}: {hint}")


# -- which choices does the next character decide? -----------------------------


class _Follow:
    """What may come next: character atoms, and whether the value may end."""

    __slots__ = ("atoms", "end")

    def __init__(self, atoms: frozenset, end: bool):
        self.atoms = atoms
        self.end = end

    def union(self, other: "_Follow") -> "_Follow":
        return _Follow(self.atoms | other.atoms, self.end or other.end)


class _Analysis:
    """Walks the parsed pattern with what follows each part; a choice is
    *decided* when its options start with disjoint characters (or the end)."""

    def __init__(self, state):
        self.state = state
        self.undecided = 0
        self.undecided_in_repeat = False
        self.undecided_repeats = 0
        self.undecided_factor = 1
        self._disjoint = {}
        self._first = {}

    # first characters of a sequence, and whether it can be empty
    def first(self, items, flags) -> tuple:
        key = (id(items), flags)
        cached = self._first.get(key)
        if cached is not None:
            return cached
        atoms, nullable = set(), True
        for op, av in items:
            f, n = self._first_item(op, av, flags)
            atoms |= f
            if not n:
                nullable = False
                break
        result = (frozenset(atoms), nullable)
        self._first[key] = result
        return result

    def _first_item(self, op, av, flags) -> tuple:
        if op in _ATOMS:
            return {(op, _freeze(av), flags)}, False
        if op is _c.SUBPATTERN:
            return self.first(av[3], _scoped(flags, av[1], av[2]))
        if op is _c.BRANCH:
            atoms, nullable = set(), False
            for alt in av[1]:
                f, n = self.first(alt, flags)
                atoms |= f
                nullable = nullable or n
            return atoms, nullable
        if op in _REPEATS:
            f, n = self.first(av[2], flags)
            return set(f), n or av[0] == 0
        raise _refuse(op, av)

    def rewrite(self, items, follow: _Follow, inside_repeat: bool, flags=(0, 0)) -> list:
        """The items with every decided choice committed; counts the undecided ones."""
        out = [None] * len(items)
        for i in range(len(items) - 1, -1, -1):
            op, av = items[i]
            out[i] = self._rewrite_item(op, av, follow, inside_repeat, flags)
            first, nullable = self._first_item(op, av, flags)
            follow = _Follow(frozenset(first), False).union(follow) if nullable else _Follow(frozenset(first), False)
        return out

    def _rewrite_item(self, op, av, follow: _Follow, inside_repeat: bool, flags) -> tuple:
        if op is _c.IN:
            return (op, self._spelled_out(av, flags))
        if op in _ATOMS:
            return (op, av)
        if op is _c.SUBPATTERN:
            group, add, delete, sub = av
            inner = self.rewrite(sub, follow, inside_repeat, _scoped(flags, add, delete))
            return (op, (group, add, delete, _p.SubPattern(self.state, inner)))
        if op is _c.BRANCH:
            options, alts, nullable = [], [], []
            for alt in av[1]:
                f, n = self.first(alt, flags)
                options.append(follow.union(_Follow(f, False)) if n else _Follow(f, False))
                alts.append(_p.SubPattern(self.state, self.rewrite(alt, follow, inside_repeat, flags)))
                nullable.append(n)
            if self._pairwise_disjoint(options):
                # An atomic group keeps the first alternative that succeeds;
                # one that can match empty succeeds without looking at the
                # next character, so it goes last (at most one can).
                ordered = [a for a, n in zip(alts, nullable) if not n] + [a for a, n in zip(alts, nullable) if n]
                branch = (_c.BRANCH, (None, ordered))
                return (_c.ATOMIC_GROUP, _p.SubPattern(self.state, [branch]))
            self._undecided(inside_repeat, factor=len(alts))
            return (_c.BRANCH, (None, alts))
        if op in _REPEATS:
            low, high, body = av
            body_first, body_nullable = self.first(body, flags)
            again = _Follow(body_first, False)
            inner_follow = again.union(follow) if high != 1 else follow
            inner = _p.SubPattern(self.state, self.rewrite(body, inner_follow, inside_repeat or high != 1, flags))
            if low == high:
                return (_c.MAX_REPEAT, (low, high, inner))  # no choice to make
            if not body_nullable and self._pairwise_disjoint([again, follow]):
                return (_c.POSSESSIVE_REPEAT, (low, high, inner))
            if high == 1:
                self._undecided(inside_repeat, factor=2)
            else:
                self._undecided(inside_repeat, repeat=True)
            return (op, (low, high, inner))
        raise _refuse(op, av)

    def _spelled_out(self, members: list, flags) -> list:
        """A character set with each small category (``\\s``: 29 characters)
        replaced by its characters, found by scanning every code point with
        ``re`` itself under the same flags: the same set, but ``re`` looks a
        character up in a table instead of calling the Unicode category test
        (a third faster on the e-mail pattern). Left as it is under
        IGNORECASE, where ``re`` would also fold the listed characters."""
        add, delete = flags
        if not any(op is _c.CATEGORY for op, _ in members) or (self.state.flags | add) & ~delete & re.IGNORECASE:
            return members
        out = []
        for op, av in members:
            chars = self._members((_c.IN, _freeze([(op, av)]), flags)) if op is _c.CATEGORY else None
            if chars is None:
                out.append((op, av))
            else:
                out.extend((_c.LITERAL, ord(ch)) for ch in chars)
        return out

    def _undecided(self, inside_repeat: bool, factor: int = 1, repeat: bool = False) -> None:
        self.undecided += 1
        self.undecided_in_repeat = self.undecided_in_repeat or inside_repeat
        self.undecided_factor *= factor
        self.undecided_repeats += repeat

    def _pairwise_disjoint(self, options: list) -> bool:
        for i, a in enumerate(options):
            for b in options[i + 1 :]:
                if a.end and b.end:
                    return False
                for x in a.atoms:
                    for y in b.atoms:
                        if not self._atoms_disjoint(x, y):
                            return False
        return True

    def _atoms_disjoint(self, x, y) -> bool:
        key = (x, y) if repr(x) <= repr(y) else (y, x)
        known = self._disjoint.get(key)
        if known is None:
            known = self._disjoint[key] = _atoms_disjoint(self.state, x, y, self._members)
        return known

    def _members(self, atom) -> Optional[str]:
        """The characters an atom matches when there are at most 512 (one
        scan of all code points per atom, not per pair); None if more."""
        key = ("members", atom)
        if key not in self._disjoint:
            chars = _finite_chars(atom, self.state.flags)
            if chars is None:
                counter = _cc.compile(_p.SubPattern(self.state, [_atom_item(self.state, atom)]), self.state.flags)
                if counter.subn("", _all_chars())[1] <= 512:
                    chars = counter.findall(_all_chars())
            self._disjoint[key] = None if chars is None else "".join(chars)
        return self._disjoint[key]


def _scoped(flags: tuple, add: int, delete: int) -> tuple:
    outer_add, outer_delete = flags
    return ((outer_add | add) & ~delete, (outer_delete | delete) & ~add)


def _freeze(av):
    if isinstance(av, list):
        return tuple(_freeze(x) for x in av)
    if isinstance(av, tuple):
        return tuple(_freeze(x) for x in av)
    return av


def _thaw(av):
    if isinstance(av, tuple) and av and isinstance(av[0], tuple):
        return [(op, _thaw(a)) for op, a in av]
    return av


def _atom_item(state, atom) -> tuple:
    """The atom as a parsed item, with its inline flags around it."""
    op, av, (add, delete) = atom
    item = (op, _thaw(av) if op is _c.IN else av)
    if add or delete:
        return (_c.SUBPATTERN, (None, add, delete, _p.SubPattern(state, [item])))
    return item


def _atom_matcher(state, atom):
    return _cc.compile(_p.SubPattern(state, [_atom_item(state, atom)]), state.flags).match


def _all_chars() -> str:
    global _ALL_CHARS
    if _ALL_CHARS is None:
        # Decoded from one UTF-32 buffer: joining 1.1 million one-character
        # strings peaked at about 85 MB, which outlived the contract load as
        # the process's peak RSS (and moved glibc's mmap threshold).
        codes = array("I", range(0x110000))
        if sys.byteorder == "big":
            codes.byteswap()
        _ALL_CHARS = codecs.utf_32_le_decode(codes, "surrogatepass", True)[0]
    return _ALL_CHARS


def _atoms_disjoint(state, x, y, members) -> bool:
    """True if no character matches both atoms (exact, through re itself)."""
    for small, other in ((x, y), (y, x)):
        chars = members(small)
        if chars is not None:
            match = _atom_matcher(state, other)
            return not any(match(ch) for ch in chars)
    both = [(_c.ASSERT, (1, _p.SubPattern(state, [_atom_item(state, x)]))), _atom_item(state, y)]
    return _cc.compile(_p.SubPattern(state, both), state.flags).search(_all_chars()) is None


def _finite_chars(atom, global_flags: int) -> Optional[list]:
    """The characters an atom can match when that is a short explicit list
    (no case folding, negation or category); None otherwise."""
    op, av, (add, delete) = atom
    if (global_flags | add) & ~delete & re.IGNORECASE:
        return None
    if op is _c.LITERAL:
        return [chr(av)]
    if op is not _c.IN:
        return None
    chars = []
    for member_op, member in av:
        if member_op is _c.LITERAL:
            chars.append(chr(member))
        elif member_op is _c.RANGE and member[1] - member[0] < 512:
            chars.extend(map(chr, range(member[0], member[1] + 1)))
        else:
            return None
    return chars


# -- the automaton ------------------------------------------------------------------


class _Dfa:
    """Lazy DFA over the Glushkov automaton of a pattern: linear time per value."""

    def __init__(self, state, items):
        self._state = state
        self._matchers = []  # position -> char test
        self._follow = []  # position -> set of positions
        self._atoms = {}
        first, last, nullable = self._build(items, (0, 0))
        self._start_follow = tuple(sorted(first))
        self._last = frozenset(last)
        self._nullable = nullable
        self._reset()

    def _reset(self) -> None:
        self._ids = {}
        self._candidates = []
        self._accepting = []
        self._trans = []
        self._start = self._state_id(None)

    def _position(self, atom) -> int:
        if len(self._matchers) >= MAX_POSITIONS:
            raise PatternError(
                f"pattern is too large: its repeats expand past {MAX_POSITIONS} character positions; "
                "use smaller counts (for example {1,64} instead of {1,5000}) or a max_length rule"
            )
        matcher = self._atoms.get(atom)
        if matcher is None:
            matcher = self._atoms[atom] = _atom_matcher(self._state, atom)
        self._matchers.append(matcher)
        self._follow.append(set())
        return len(self._matchers) - 1

    def _build(self, items, flags) -> tuple:
        first, last, nullable = [], [], True
        for op, av in items:
            f, l, n = self._build_item(op, av, flags)
            for p in last:
                self._follow[p].update(f)
            if nullable:
                first = first + f
            last = last + l if n else l
            nullable = nullable and n
        return first, last, nullable

    def _build_item(self, op, av, flags) -> tuple:
        if op in _ATOMS:
            p = self._position((op, _freeze(av), flags))
            return [p], [p], False
        if op is _c.SUBPATTERN:
            return self._build(av[3], _scoped(flags, av[1], av[2]))
        if op is _c.BRANCH:
            first, last, nullable = [], [], False
            for alt in av[1]:
                f, l, n = self._build(alt, flags)
                first += f
                last += l
                nullable = nullable or n
            return first, last, nullable
        if op in _REPEATS:
            low, high, body = av
            parts = [(body, False)] * low
            if high == _c.MAXREPEAT:
                parts.append((body, True))
            else:
                parts.extend([(body, None)] * (high - low))
            first, last, nullable = [], [], True
            for sub, star in parts:
                f, l, n = self._build(sub, flags)
                if star:
                    for p in l:
                        self._follow[p].update(f)
                if star is not False:
                    n = True  # optional copy
                for p in last:
                    self._follow[p].update(f)
                if nullable:
                    first = first + f
                last = last + l if n else l
                nullable = nullable and n
            return first, last, nullable
        raise _refuse(op, av)

    def _state_id(self, positions) -> int:
        key = positions
        found = self._ids.get(key)
        if found is not None:
            return found
        sid = len(self._candidates)
        self._ids[key] = sid
        if positions is None:
            candidates, accepting = self._start_follow, self._nullable
        else:
            nxt = set()
            for p in positions:
                nxt.update(self._follow[p])
            candidates, accepting = tuple(sorted(nxt)), bool(positions & self._last)
        self._candidates.append(candidates)
        self._accepting.append(accepting)
        self._trans.append({})
        return sid

    def _step(self, sid: int, ch: str) -> int:
        matchers = self._matchers
        nxt = frozenset(p for p in self._candidates[sid] if matchers[p](ch))
        if not nxt:
            target = -1
        else:
            if len(self._candidates) >= MAX_DFA_STATES:
                self._reset()  # bound memory; the work per character stays bounded
                return self._state_id(nxt)
            target = self._state_id(nxt)
        self._trans[sid][ch] = target
        return target

    def fullmatch(self, text: str) -> bool:
        sid = self._start
        trans = self._trans
        for ch in text:
            nxt = trans[sid].get(ch)
            if nxt is None:
                nxt = self._step(sid, ch)
                trans = self._trans
            if nxt < 0:
                return False
            sid = nxt
        return self._accepting[sid]


# -- can any part of the pattern consume a newline? -----------------------------

_NO_NEWLINE_CATEGORIES = {
    _c.CATEGORY_DIGIT,
    _c.CATEGORY_NOT_SPACE,
    _c.CATEGORY_WORD,
    _c.CATEGORY_NOT_LINEBREAK,
    _c.CATEGORY_UNI_DIGIT,
    _c.CATEGORY_UNI_NOT_SPACE,
    _c.CATEGORY_UNI_WORD,
    _c.CATEGORY_UNI_NOT_LINEBREAK,
    _c.CATEGORY_LOC_WORD,
}
_NEWLINE_CATEGORIES = {
    _c.CATEGORY_NOT_DIGIT,
    _c.CATEGORY_SPACE,
    _c.CATEGORY_NOT_WORD,
    _c.CATEGORY_LINEBREAK,
    _c.CATEGORY_UNI_NOT_DIGIT,
    _c.CATEGORY_UNI_SPACE,
    _c.CATEGORY_UNI_NOT_WORD,
    _c.CATEGORY_UNI_LINEBREAK,
    _c.CATEGORY_LOC_NOT_WORD,
}


def _newline_free(items, dotall: bool) -> bool:
    """True if nothing in ``items`` can consume "\\n"."""
    for op, av in items:
        if op is _c.LITERAL:
            if av == _NEWLINE:
                return False
        elif op is _c.NOT_LITERAL:
            if av != _NEWLINE:
                return False
        elif op is _c.ANY:
            if dotall:
                return False
        elif op is _c.IN:
            if _set_has_newline(av):
                return False
        elif op is _c.CATEGORY:
            if av not in _NO_NEWLINE_CATEGORIES:
                return False
        elif op is _c.SUBPATTERN:
            _group, add_flags, del_flags, sub = av
            inner = (dotall or bool(add_flags & re.DOTALL)) and not del_flags & re.DOTALL
            if not _newline_free(sub, inner):
                return False
        elif op in _REPEATS:
            if not _newline_free(av[2], dotall):
                return False
        elif op is _c.BRANCH:
            if not all(_newline_free(branch, dotall) for branch in av[1]):
                return False
        else:
            return False
    return True


def _set_has_newline(items) -> bool:
    negate = False
    contains = False
    for op, av in items:
        if op is _c.NEGATE:
            negate = True
        elif op is _c.LITERAL:
            contains = contains or av == _NEWLINE
        elif op in (_c.RANGE, getattr(_c, "RANGE_UNI_IGNORE", _c.RANGE)):
            contains = contains or av[0] <= _NEWLINE <= av[1]
        elif op is _c.CATEGORY and av in _NEWLINE_CATEGORIES:
            contains = True
        elif op is _c.CATEGORY and av in _NO_NEWLINE_CATEGORIES:
            pass
        else:
            return True  # unknown member: assume the worst
    return contains != negate
