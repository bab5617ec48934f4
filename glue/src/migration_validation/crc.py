"""CRC-32 (the zlib/PNG/S3 ``CRC32`` polynomial) of a file from the CRCs of its parts.

Each partition computes ``zlib.crc32`` over the bytes it owns; the partitions
own consecutive, non-overlapping byte ranges, so combining them in partition
order gives exactly ``zlib.crc32`` of the whole object. ``crc32_combine`` is
the algorithm of zlib's function of the same name (not exposed by Python).
"""

from __future__ import annotations

_POLY = 0xEDB88320  # reflected CRC-32 polynomial


def _multmodp(a: int, b: int) -> int:
    """Multiply two polynomials modulo the CRC polynomial (reflected bit order)."""
    m = 1 << 31
    p = 0
    while True:
        if a & m:
            p ^= b
            if (a & (m - 1)) == 0:
                break
        m >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1
    return p


def _x2n_table() -> list:
    table = []
    p = 1 << 30  # x^1
    for _ in range(32):
        table.append(p)
        p = _multmodp(p, p)
    return table


_X2N = _x2n_table()


def _x2nmodp(n: int, k: int) -> int:
    """x^(n * 2^k) modulo the CRC polynomial."""
    p = 1 << 31  # x^0
    while n:
        if n & 1:
            p = _multmodp(_X2N[k & 31], p)
        n >>= 1
        k += 1
    return p


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """CRC-32 of ``A + B`` given ``crc32(A)``, ``crc32(B)`` and ``len(B)``."""
    if len2 == 0:
        return crc1
    return _multmodp(_x2nmodp(len2, 3), crc1) ^ crc2
