"""What a ``unique`` rule remembers: one 8-byte digest per distinct key.

A key is reduced to the first 8 bytes of its BLAKE2b hash. Two different keys
collide with probability about n^2 / 2^65 (about 3 in a million for ten million
distinct keys); a collision shows up as one false ``unique`` failure, never a
missed duplicate.

``DigestTable`` is an open-addressing hash table held in two flat
``array('Q')`` buffers (digest, and the line of the key's first occurrence
shifted left one bit with a flag bit), so it costs 16 bytes per slot instead
of the ~100 bytes per entry of a Python ``dict`` or ``set`` of ints. The first
occurrence is what makes merging partition reports exact: a key seen in an
earlier partition turns the later partition's first occurrence into a failure,
and the flag says whether that row had already failed another rule.
"""

from __future__ import annotations

import hashlib
import random
from array import array
from typing import Optional

from .values import INTEGER_RE, json_text

_EMPTY = 0
_MAX_LOAD_NUM, _MAX_LOAD_DEN = 2, 3  # grow past 2/3 full
_M64 = (1 << 64) - 1
_random = random.Random()  # slot multipliers only; results never depend on them


def _zeros(size: int) -> array:
    return array("Q", bytes(8 * size))


def text_digests(values) -> list:
    """Digests of CSV fields; the empty field (missing) gets 0, which is never
    a key (a real digest of 0 is stored as 1)."""
    b2 = hashlib.blake2b
    from_bytes = int.from_bytes
    return [
        (from_bytes(b2(v.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little") or 1) if v else 0
        for v in values
    ]


def canonical_integers(values) -> list:
    """CSV integer fields as the number they write: ``+1``, ``01`` and ``1``
    are one key, ``-0`` is ``0``. Text that is not an integer stays as it is
    (it already failed ``type``). Done on the text, so integers longer than
    ``int()`` accepts compare too."""
    out = []
    append = out.append
    for v in values:
        if v.isdigit() and v.isascii() and (v[0] != "0" or len(v) == 1):
            append(v)  # already canonical: the common case
        elif INTEGER_RE.fullmatch(v):
            digits = v.lstrip("+-").lstrip("0") or "0"
            append("-" + digits if v[0] == "-" and digits != "0" else digits)
        else:
            append(v)
    return out


def json_digests(values) -> list:
    """Digests of JSON values; null or absent (missing) gets 0. A JSON string
    may hold lone surrogates (``"\\ud800"``): ``surrogatepass`` encodes them
    to distinct bytes, so distinct strings keep distinct keys."""
    b2 = hashlib.blake2b
    from_bytes = int.from_bytes
    return [
        (from_bytes(b2(json_text(v).encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little") or 1)
        if v is not None
        else 0
        for v in values
    ]


class DigestTable:
    """Digest -> packed first occurrence (``line << 1 | flag``).

    The slot of a digest is the top bits of ``digest * multiplier`` with an
    odd multiplier drawn per table. Digests are random, so one table alone
    would do with any bits; but a merge inserts one table's keys into another
    in the first table's slot order, and with the same slot function those
    keys arrive sorted by slot and pile up into one long probe run (what made
    a 3 M-row merge take minutes). A per-table multiplier makes the two slot
    orders unrelated.
    """

    __slots__ = ("_keys", "_vals", "_mask", "_shift", "_mult", "_count", "_limit")

    def __init__(self, capacity: int = 1024, multiplier: Optional[int] = None):
        size = 1024
        while size * _MAX_LOAD_NUM < capacity * _MAX_LOAD_DEN:
            size *= 2
        self._mult = multiplier if multiplier is not None else (_random.getrandbits(64) | 1)
        self._alloc(size)
        self._count = 0

    def _alloc(self, size: int) -> None:
        self._keys = _zeros(size)
        self._vals = _zeros(size)
        self._mask = size - 1
        self._shift = 64 - (size.bit_length() - 1)
        self._limit = size * _MAX_LOAD_NUM // _MAX_LOAD_DEN

    def _slot(self, d: int) -> int:
        return ((d * self._mult) & _M64) >> self._shift

    def __len__(self) -> int:
        return self._count

    @property
    def nbytes(self) -> int:
        """Bytes held by the table's buffers."""
        return (len(self._keys) + len(self._vals)) * 8

    def _grow(self) -> None:
        old_keys, old_vals = self._keys, self._vals
        self._alloc(len(old_keys) * 2)
        keys, vals, mask, mult, shift = self._keys, self._vals, self._mask, self._mult, self._shift
        for d, v in zip(old_keys, old_vals):
            if d:
                j = ((d * mult) & _M64) >> shift
                while keys[j]:
                    j = (j + 1) & mask
                keys[j] = d
                vals[j] = v

    def insert_batch(self, digests, packed) -> list:
        """Insert each non-zero ``digests[i]`` with value ``packed[i]`` unless
        present. Returns ``(i, stored_value)`` for every digest already present
        (including one inserted earlier in the same batch), in order."""
        keys, vals, mask, mult, shift = self._keys, self._vals, self._mask, self._mult, self._shift
        count, limit = self._count, self._limit
        duplicates = []
        for i, d in enumerate(digests):
            if not d:
                continue
            j = ((d * mult) & _M64) >> shift
            k = keys[j]
            while k and k != d:
                j = (j + 1) & mask
                k = keys[j]
            if k:
                duplicates.append((i, vals[j]))
                continue
            keys[j] = d
            vals[j] = packed[i]
            count += 1
            if count > limit:
                self._count = count
                self._grow()
                keys, vals, mask, shift = self._keys, self._vals, self._mask, self._shift
                limit = self._limit
        self._count = count
        return duplicates

    def absorb(self, other: "DigestTable", line_shift: int) -> list:
        """Merge ``other`` (a later partition, its lines shifted by
        ``line_shift``) into this table: keys new here are inserted; for keys
        already here, returns ``(digest, other's packed value)`` (not shifted)."""
        shift_packed = line_shift << 1
        digests, packed = [], []
        for d, v in zip(other._keys, other._vals):
            if d:
                digests.append(d)
                packed.append(v + shift_packed)
        found = self.insert_batch(digests, packed)
        return [(digests[i], packed[i] - shift_packed) for i, _ in found]

    def get(self, d: int):
        keys, mask = self._keys, self._mask
        j = self._slot(d)
        k = keys[j]
        while k:
            if k == d:
                return self._vals[j]
            j = (j + 1) & mask
            k = keys[j]
        return None

    def put(self, d: int, value: int) -> None:
        """Insert or overwrite."""
        keys, mask = self._keys, self._mask
        j = self._slot(d)
        k = keys[j]
        while k and k != d:
            j = (j + 1) & mask
            k = keys[j]
        self._vals[j] = value
        if not k:
            keys[j] = d
            self._count += 1
            if self._count > self._limit:
                self._grow()

    def set_flag(self, d: int) -> None:
        value = self.get(d)
        if value is not None:
            self.put(d, value | 1)

    def items(self):
        """``(digest, packed)`` for every key, in slot order."""
        for d, v in zip(self._keys, self._vals):
            if d:
                yield d, v

    def __getstate__(self):
        return (self._keys, self._vals, self._count, self._mult)

    def __setstate__(self, state):
        self._keys, self._vals, self._count, self._mult = state
        size = len(self._keys)
        self._mask = size - 1
        self._shift = 64 - (size.bit_length() - 1)
        self._limit = size * _MAX_LOAD_NUM // _MAX_LOAD_DEN
