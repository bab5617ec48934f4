"""What a ``unique`` rule remembers: one 8-byte digest per distinct key.

A key is reduced to the first 8 bytes of its BLAKE2b hash. Two different keys
collide with probability about n^2 / 2^65 (about 3 in a million for ten million
distinct keys); a collision shows up as one false ``unique`` failure, never a
missed duplicate.

``DigestTable`` is an open-addressing hash table held in flat ``array('Q')``
buffers (digest, and the line of the key's first occurrence shifted left one
bit with a flag bit), so it costs 16 bytes per slot instead of the ~100 bytes
per entry of a Python ``dict`` or ``set`` of ints. The first occurrence is
what makes merging partition reports exact: a key seen in an earlier
partition turns the later partition's first occurrence into a failure, and
the flag says whether that row had already failed another rule.

The slots are cut into up to 256 shards and the table grows one shard at a
time: a single flat table that doubles holds its old and new buffers at once
(1.5 times its new size, and more while ``array("Q", bytes(n))`` copied the
zeros in), while a shard holds at most 1/256 of that (or 64 KiB for a small
table), so the peak memory of a ``unique`` column is the table's own bytes.
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
_MAX_SHARD_BITS = 8  # up to 256 shards
_SPLIT_SLOTS = 4096  # a shard this big splits in two rather than doubling
_SHARD_CAP_NUM, _SHARD_CAP_DEN = 7, 8  # a shard past 7/8 full grows the table
_random = random.Random()  # slot multipliers only; results never depend on them


def _zeros(size: int) -> array:
    # Repeating one zero allocates the buffer once; array("Q", bytes(n))
    # would hold a second copy of it while copying.
    return array("Q", (0,)) * size


def text_digests(values) -> array:
    """Digests of CSV fields; the empty field (missing) gets 0, which is never
    a key (a real digest of 0 is stored as 1)."""
    b2 = hashlib.blake2b
    from_bytes = int.from_bytes
    return array(
        "Q", ((from_bytes(b2(v.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little") or 1) if v else 0 for v in values)
    )


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


def json_digests(values) -> array:
    """Digests of JSON values; null or absent (missing) gets 0. A JSON string
    may hold lone surrogates (``"\\ud800"``): ``surrogatepass`` encodes them
    to distinct bytes, so distinct strings keep distinct keys."""
    b2 = hashlib.blake2b
    from_bytes = int.from_bytes
    return array(
        "Q",
        (
            (from_bytes(b2(json_text(v).encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little") or 1)
            if v is not None
            else 0
            for v in values
        ),
    )


class DigestTable:
    """Digest -> packed first occurrence (``line << 1 | flag``).

    With ``h = digest * multiplier`` (64 bits, an odd multiplier drawn per
    table), the top ``bits`` bits of ``h`` choose the shard and the bits
    below them the slot in it. Digests are random, so one table alone would
    do with any bits; but a merge inserts one table's keys into another in
    the first table's slot order, and with the same slot function those keys
    arrive sorted by slot and pile up into one long probe run (what made a
    3 M-row merge take minutes). A per-table multiplier makes the two slot
    orders unrelated.

    All shards have one size. The table grows past 2/3 full (as a flat table
    would, so it is as compact) or if one shard passes 7/8 (a safety net:
    the shards fill evenly). A small table is one shard that doubles; from
    ``_SPLIT_SLOTS`` slots a shard splits into two by the next bit of ``h``
    until there are 256 (``_MAX_SHARD_BITS``), then every shard doubles. Either way the
    work goes shard by shard, and a shard's old buffers are freed before the
    next shard's new ones are made, so the same heap space is reused.
    """

    __slots__ = ("_keys", "_vals", "_fill", "_bits", "_mask", "_shift", "_mult", "_count", "_limit", "_cap")

    def __init__(self, capacity: int = 1024, multiplier: Optional[int] = None):
        total = 1024
        while total * _MAX_LOAD_NUM < capacity * _MAX_LOAD_DEN:
            total *= 2
        bits = 0
        while total >> bits > _SPLIT_SLOTS and bits < _MAX_SHARD_BITS:
            bits += 1
        self._mult = multiplier if multiplier is not None else (_random.getrandbits(64) | 1)
        self._keys = [_zeros(total >> bits) for _ in range(1 << bits)]
        self._vals = [_zeros(total >> bits) for _ in range(1 << bits)]
        self._fill = [0] * (1 << bits)
        self._count = 0
        self._sized(bits, total >> bits)

    def _sized(self, bits: int, size: int) -> None:
        self._bits = bits
        self._mask = size - 1
        self._shift = 64 - bits - (size.bit_length() - 1)
        self._limit = (size << bits) * _MAX_LOAD_NUM // _MAX_LOAD_DEN
        self._cap = size * _SHARD_CAP_NUM // _SHARD_CAP_DEN

    def _place(self, d: int):
        """(shard, slot) where ``d`` is or would go."""
        h = (d * self._mult) & _M64
        s = h >> (64 - self._bits)
        keys, mask = self._keys[s], self._mask
        j = (h >> self._shift) & mask
        k = keys[j]
        while k and k != d:
            j = (j + 1) & mask
            k = keys[j]
        return s, j

    def __len__(self) -> int:
        return self._count

    @property
    def nbytes(self) -> int:
        """Bytes held by the table's buffers."""
        return sum(len(k) + len(v) for k, v in zip(self._keys, self._vals)) * 8

    def _grow(self) -> None:
        """Double the table, shard by shard: split each shard in two while
        there are fewer than ``_MAX_SHARDS`` and the shards are big enough,
        else double each shard."""
        size = self._mask + 1
        bits = self._bits
        if bits < _MAX_SHARD_BITS and size >= _SPLIT_SLOTS:
            bits += 1
        else:
            size *= 2
        old_keys, old_vals, old_fill = self._keys, self._vals, self._fill
        self._keys, self._vals, self._fill = [], [], [0] * (1 << bits)
        self._sized(bits, size)
        keys_l, vals_l, fill = self._keys, self._vals, self._fill
        mask, mult, shift, top = self._mask, self._mult, self._shift, 64 - bits
        for s in range(len(old_keys)):
            keys_s, vals_s = old_keys[s], old_vals[s]
            old_keys[s] = old_vals[s] = None  # freed when this shard is done
            for _ in range((1 << bits) // len(old_keys)):
                keys_l.append(_zeros(size))
                vals_l.append(_zeros(size))
            for d, v in zip(keys_s, vals_s):
                if d:
                    h = (d * mult) & _M64
                    t = h >> top
                    keys = keys_l[t]
                    j = (h >> shift) & mask
                    while keys[j]:
                        j = (j + 1) & mask
                    keys[j] = d
                    vals_l[t][j] = v
                    fill[t] += 1
            del keys_s, vals_s

    def insert_batch(self, digests, packed) -> list:
        """Insert each non-zero ``digests[i]`` with value ``packed[i]`` unless
        present. Returns ``(i, stored_value)`` for every digest already present
        (including one inserted earlier in the same batch), in order."""
        all_keys, all_vals, fill = self._keys, self._vals, self._fill
        mask, mult, shift, top = self._mask, self._mult, self._shift, 64 - self._bits
        count, limit, cap = self._count, self._limit, self._cap
        duplicates = []
        for i, d in enumerate(digests):
            if not d:
                continue
            h = (d * mult) & _M64
            s = h >> top
            keys = all_keys[s]
            j = (h >> shift) & mask
            k = keys[j]
            while k and k != d:
                j = (j + 1) & mask
                k = keys[j]
            if k:
                duplicates.append((i, all_vals[s][j]))
                continue
            keys[j] = d
            all_vals[s][j] = packed[i]
            count += 1
            fill[s] += 1
            if count > limit or fill[s] > cap:
                self._count = count
                self._grow()
                all_keys, all_vals, fill = self._keys, self._vals, self._fill
                mask, shift, top = self._mask, self._shift, 64 - self._bits
                limit, cap = self._limit, self._cap
        self._count = count
        return duplicates

    def absorb(self, other: "DigestTable", line_shift: int) -> list:
        """Merge ``other`` (a later partition, its lines shifted by
        ``line_shift``) into this table: keys new here are inserted; for keys
        already here, returns ``(digest, other's packed value)`` (not shifted).
        Done shard by shard of ``other``, so the temporary lists hold 1/256 of
        its keys."""
        shift_packed = line_shift << 1
        found_all = []
        for other_keys, other_vals in zip(other._keys, other._vals):
            digests, packed = [], []
            for d, v in zip(other_keys, other_vals):
                if d:
                    digests.append(d)
                    packed.append(v + shift_packed)
            found = self.insert_batch(digests, packed)
            found_all.extend((digests[i], packed[i] - shift_packed) for i, _ in found)
        return found_all

    def get(self, d: int):
        s, j = self._place(d)
        return self._vals[s][j] if self._keys[s][j] else None

    def put(self, d: int, value: int) -> None:
        """Insert or overwrite."""
        s, j = self._place(d)
        self._vals[s][j] = value
        if not self._keys[s][j]:
            self._keys[s][j] = d
            self._count += 1
            self._fill[s] += 1
            if self._count > self._limit or self._fill[s] > self._cap:
                self._grow()

    def set_flag(self, d: int) -> None:
        value = self.get(d)
        if value is not None:
            self.put(d, value | 1)

    def items(self):
        """``(digest, packed)`` for every key, shard by shard in slot order."""
        for keys, vals in zip(self._keys, self._vals):
            for d, v in zip(keys, vals):
                if d:
                    yield d, v

    def __getstate__(self):
        return (self._keys, self._vals, self._fill, self._count, self._mult)

    def __setstate__(self, state):
        self._keys, self._vals, self._fill, self._count, self._mult = state
        self._sized(len(self._keys).bit_length() - 1, len(self._keys[0]))
