"""Byte ranges of one object and the whole lines each range owns.

A file of ``size`` bytes is cut into N ranges ``[start, end)``. A range owns
every line whose first byte lies inside it; it reads past ``end`` to finish
its last line and skips the partial line it starts in (unless it starts at
0). So the lines of the file are split between the ranges with no gap and no
overlap, whatever N is, and the bytes a range owns (from its first owned line
to the end of its last) are consecutive slices of the file in range order.

Everything reads through ``read(offset, length) -> bytes`` so the same code
runs on a local file (the CLI, the tests) and on an S3 object version (the
Glue executors, with ranged GetObject).
"""

from __future__ import annotations

import zlib
from typing import Callable, Iterator, Optional, Tuple

Read = Callable[[int, int], bytes]
DEFAULT_CHUNK_BYTES = 1024 * 1024

LINES = "lines"
OVERSIZED = "oversized"


def split_ranges(size: int, partitions: int) -> list:
    """``partitions`` contiguous ranges covering ``[0, size)`` (at least one)."""
    if partitions < 1:
        raise ValueError("partitions must be at least 1")
    partitions = max(1, min(partitions, size))
    step, extra = divmod(size, partitions)
    ranges, start = [], 0
    for i in range(partitions):
        end = start + step + (1 if i < extra else 0)
        ranges.append((start, end))
        start = end
    return ranges


def read_first_line(read: Read, size: int, max_line_bytes: int) -> Tuple[bytes, bool]:
    """The first line without its ``\\n`` and whether it fits ``max_line_bytes``."""
    limit = min(size, max_line_bytes + 1)
    data = read(0, limit) if limit else b""
    end = data.find(b"\n")
    if end >= 0:
        return data[:end], True
    if size <= max_line_bytes:
        return data, True
    return data[:max_line_bytes], False


class LineBlocks:
    """Iterate the lines a byte range owns, as blocks of whole lines.

    Yields ``(LINES, offset, data)`` where ``data`` holds complete lines (each
    ending in ``\\n`` except possibly the last line of the file), none longer
    than ``max_line_bytes`` (not counting the ``\\n``), and
    ``(OVERSIZED, offset, length)`` for a line that is longer: its bytes are
    skipped without being held in memory. Memory stays within about
    ``chunk_bytes + max_line_bytes`` whatever the file size.

    After iteration, ``crc32`` and ``nbytes`` describe exactly the owned bytes.
    """

    def __init__(
        self,
        read: Read,
        size: int,
        start: int,
        end: int,
        max_line_bytes: int,
        chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    ):
        if not 0 <= start <= end <= size:
            raise ValueError(f"bad range [{start}, {end}) for size {size}")
        self._read = read
        self.size = size
        self.start = start
        self.end = end
        self.max_line_bytes = max_line_bytes
        self.chunk_bytes = max(chunk_bytes, 1)
        self.crc32 = 0
        self.nbytes = 0

    def _chunk(self, offset: int) -> bytes:
        data = self._read(offset, min(self.chunk_bytes, self.size - offset))
        if not data:
            raise IOError(f"short read at byte {offset} of {self.size}")
        return data

    def _first_owned(self):
        """``(offset of the first owned line, bytes already read from there)``
        or ``(None, b"")``. The bytes read to find the line start are kept, so
        the range continues from them instead of reading (on S3: opening a
        second GetObject) again."""
        if self.start == 0:
            return 0, b""
        # The line containing byte start-1 belongs to an earlier range; ours
        # begins after the first newline at or after start-1.
        pos = self.start - 1
        while pos < self.size:
            data = self._chunk(pos)
            i = data.find(b"\n")
            if i >= 0:
                return pos + i + 1, data[i + 1 :]
            pos += len(data)
        return None, b""

    def __iter__(self) -> Iterator[tuple]:
        first, ahead = self._first_owned()
        if first is None or first >= self.end:
            return
        size, end, limit = self.size, self.end, self.max_line_bytes
        line_start = first  # offset of the next line not yet yielded
        pos = first  # next byte to read
        carry = b""  # bytes [line_start, pos) of an unfinished line
        skipping = False  # inside a line already known to be too long
        skipped = 0
        if ahead:
            pos += len(ahead)
        while line_start < end and (pos < size or ahead):
            if ahead:
                chunk, ahead = ahead, b""
            else:
                chunk = self._chunk(pos)
                pos += len(chunk)
            if skipping:
                i = chunk.find(b"\n")
                if i < 0:
                    self._account(chunk)
                    skipped += len(chunk)
                    continue
                self._account(chunk[: i + 1])
                yield OVERSIZED, line_start, skipped + i
                skipping = False
                line_start = pos - len(chunk) + i + 1
                chunk = chunk[i + 1 :]
                if not chunk or line_start >= end:
                    continue
            data = carry + chunk if carry else chunk
            carry = b""
            stop = data.find(b"\n", max(end - 1 - line_start, 0))
            if stop >= 0:
                # The line holding byte end-1 ends here: it is our last line.
                yield from self._emit(line_start, data[: stop + 1])
                return
            if pos >= size:
                yield from self._emit(line_start, data)  # last line, no newline
                return
            cut = data.rfind(b"\n") + 1
            if cut:
                yield from self._emit(line_start, data[:cut])
                line_start += cut
            carry = data[cut:]
            if len(carry) > limit:
                self._account(carry)
                skipping, skipped, carry = True, len(carry), b""
        if skipping:
            yield OVERSIZED, line_start, skipped

    def _account(self, data: bytes) -> None:
        self.crc32 = zlib.crc32(data, self.crc32)
        self.nbytes += len(data)

    def _emit(self, offset: int, block: bytes) -> Iterator[tuple]:
        self._account(block)
        limit = self.max_line_bytes
        if not _has_long_line(block, limit):
            yield LINES, offset, block
            return
        # Cut the block around lines that are too long (rare path).
        start = line_start = 0
        for line in block.split(b"\n"):
            if len(line) > limit:
                if line_start > start:
                    yield LINES, offset + start, block[start:line_start]
                yield OVERSIZED, offset + line_start, len(line)
                start = min(line_start + len(line) + 1, len(block))
            line_start += len(line) + 1
        if start < len(block):
            yield LINES, offset + start, block[start:]


def _has_long_line(block: bytes, limit: int) -> bool:
    """True if a line of ``block`` is longer than ``limit`` (without its \\n).

    Jumps from newline to newline with ``rfind`` over windows of ``limit + 1``
    bytes: a window without a newline holds a line that is too long. That is
    one backwards scan of the block instead of splitting it into lines."""
    size = len(block)
    pos = 0
    while size - pos > limit:
        newline = block.rfind(b"\n", pos, pos + limit + 1)
        if newline < 0:
            return True
        pos = newline + 1
    return False


class FileReader:
    """``read(offset, length)`` over a local binary file."""

    def __init__(self, fileobj):
        self._f = fileobj

    def __call__(self, offset: int, length: int) -> bytes:
        self._f.seek(offset)
        return self._f.read(length)


class S3RangeReader:
    """``read(offset, length)`` over one S3 object version with ranged GetObject.

    Consecutive reads continue the same open response body, so a partition
    costs one request, not one per chunk. Call ``close()`` when done: the
    response was opened to the end of the object.
    """

    def __init__(self, client, bucket: str, key: str, version_id: Optional[str] = None):
        self._client = client
        self._bucket = bucket
        self._key = key
        self._version_id = version_id
        self._body = None
        self._pos = -1
        self._last = (0, b"")  # offset and bytes of the last read, for a step back
        self.requests = 0

    def __call__(self, offset: int, length: int) -> bytes:
        head = b""
        last_start, last = self._last
        if self._body is not None and last_start <= offset and offset + length <= self._pos:
            return last[offset - last_start : offset - last_start + length]
        if self._body is not None and last_start <= offset < self._pos and offset + length >= self._pos:
            # A step back into the bytes just read (finding a line or record
            # start reads ahead): serve them again instead of a new request.
            head = last[offset - last_start :]
            length -= len(head)
            offset = self._pos
        if self._body is None or self._pos != offset:
            self.close()
            params = {"Bucket": self._bucket, "Key": self._key, "Range": f"bytes={offset}-"}
            if self._version_id:
                params["VersionId"] = self._version_id
            self._body = self._client.get_object(**params)["Body"]
            self._pos = offset
            self.requests += 1
        parts, wanted = [head], length
        while wanted > 0:
            data = self._body.read(wanted)
            if not data:
                break
            parts.append(data)
            wanted -= len(data)
        data = b"".join(parts)
        self._last = (self._pos - len(head), data)
        self._pos += len(data) - len(head)
        return data

    def close(self) -> None:
        if self._body is not None:
            try:
                self._body.close()
            finally:
                self._body = None
                self._pos = -1
                self._last = (0, b"")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def guess_record_start(read: Read, size: int, start: int, quote: bytes, delimiter: bytes, window: int = 64 * 1024) -> int:
    """First record boundary at or after ``start`` in a CSV whose quoted fields
    may hold newlines (``multiline``): the offset just after the first
    newline at or after ``start - 1`` that lies outside quotes.

    A byte range cannot know whether it starts inside quotes, so both cases
    are tried on the first ``window`` bytes and the one under which the
    quotes sit where CSV puts them (an opening quote after a delimiter or a
    line break, a closing one before a delimiter, a line break or another
    quote) is kept. This is a guess: the caller checks that the previous
    range's last record ends exactly here and re-reads from there if not
    (``validator.validate_range(first_record=...)``), so a wrong guess costs
    time, never exactness. ``size`` when no boundary follows.
    """
    if start <= 0:
        return 0
    pos = start - 1
    data = read(pos, min(window, size - pos))
    scores = [_quote_violations(data, inside, quote[0], delimiter[0]) for inside in (False, True)]
    inside = scores[1] < scores[0]
    while True:
        found = _boundary(data, inside, quote[0])
        if isinstance(found, int):
            return pos + found
        inside = found[1]
        pos += len(data)
        if pos >= size:
            return size
        data = read(pos, min(window, size - pos))


def _quote_violations(data: bytes, inside: bool, quote: int, delimiter: int) -> int:
    violations = 0
    n = len(data)
    i = data.find(quote)
    while i >= 0:
        if inside:
            if i + 1 < n and data[i + 1] == quote:
                i = data.find(quote, i + 2)  # doubled quote inside a field
                continue
            if i + 1 < n and data[i + 1] not in (delimiter, 10, 13):
                violations += 1
            inside = False
        else:
            if i > 0 and data[i - 1] not in (delimiter, 10):
                violations += 1
            inside = True
        i = data.find(quote, i + 1)
    return violations


def _boundary(data: bytes, inside: bool, quote: int):
    """Offset after the first newline outside quotes, or ``(None, inside)``
    at the end of ``data``."""
    pos = 0
    while True:
        newline = data.find(b"\n", pos)
        q = data.find(bytes((quote,)), pos)
        if newline < 0 and q < 0:
            return (None, inside)
        if newline >= 0 and (q < 0 or newline < q):
            if not inside:
                return newline + 1
            pos = newline + 1
        else:
            inside = not inside
            pos = q + 1
