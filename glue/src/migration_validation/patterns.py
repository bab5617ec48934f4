"""Match a ``pattern`` rule against a whole batch in one regex call.

``all(map(rx.fullmatch, values))`` pays a Python-level call and a Match
object per value. When no part of the pattern can match a newline and the
pattern has no anchor, lookaround or backreference, the values are
``'\\n'.join``-ed and matched once with ``(?:(?:pattern)\\n)*``: no pattern
match can then cross a separator, so the joined text matches exactly when
every value does. A value that itself holds a newline (a quoted multiline CSV
field) is detected by counting separators, and the batch falls back to value
by value. Patterns the analysis cannot prove safe use the per-value path.
"""

from __future__ import annotations

import re
from typing import Callable, Optional

try:  # Python 3.11+: the regex parser behind the re module
    from re import _constants as _c
    from re import _parser as _p
except ImportError:  # pragma: no cover - other interpreters keep the slow path
    _c = _p = None

_NEWLINE = 10
if _c is not None:
    _REPEATS = {_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", _c.MAX_REPEAT)}
    # Categories that never contain "\n"; any other category is assumed to.
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


def batch_matcher(pattern: str) -> Optional[Callable]:
    """``f(values) -> bool`` (True only if every value fully matches), or
    None when the joined match is not provably equivalent."""
    if _p is None:
        return None
    try:
        tree = _p.parse(pattern)
        if not _newline_free(tree, bool(tree.state.flags & re.DOTALL)):
            return None
        joined = re.compile("(?:(?:" + pattern + ")\n)*").fullmatch
    except (re.error, TypeError, ValueError, AttributeError):
        return None

    def all_match(values) -> bool:
        text = "\n".join(values)
        if text.count("\n") != len(values) - 1:
            return False  # a value holds a newline: check value by value
        return joined(text + "\n") is not None

    return all_match


def _newline_free(items, dotall: bool) -> bool:
    """True if nothing in ``items`` can consume "\\n" and nothing depends on
    context (anchors, lookarounds, group references)."""
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
        elif op is getattr(_c, "ATOMIC_GROUP", None):
            if not _newline_free(av, dotall):
                return False
        elif op is _c.BRANCH:
            if not all(_newline_free(branch, dotall) for branch in av[1]):
                return False
        else:
            return False  # AT, ASSERT, ASSERT_NOT, GROUPREF, ... : not provable
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
