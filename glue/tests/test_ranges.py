import random
import tempfile
import unittest
import zlib
from pathlib import Path

from glue.tests.helpers import SAMPLES, FakeS3
from migration_validation.crc import crc32_combine
from migration_validation.ranges import LINES, OVERSIZED, FileReader, LineBlocks, S3RangeReader, read_first_line, split_ranges


def owned_lines(read, size, ranges, limit, chunk):
    """Lines (or ("OVERSIZED", offset, length)) per range, plus the combined CRC."""
    per_range, crc, nbytes = [], 0, 0
    for start, end in ranges:
        blocks = LineBlocks(read, size, start, end, limit, chunk)
        lines = []
        for kind, offset, payload in blocks:
            if kind == LINES:
                parts = payload.split(b"\n")
                if payload.endswith(b"\n"):
                    parts.pop()
                lines.extend(parts)
            else:
                lines.append(("OVERSIZED", offset, payload))
        per_range.append(lines)
        crc = crc32_combine(crc, blocks.crc32, blocks.nbytes)
        nbytes += blocks.nbytes
    return per_range, crc, nbytes


def expected_lines(data, limit):
    lines = data.split(b"\n")
    if data.endswith(b"\n") or not data:
        lines.pop()
    out, offset = [], 0
    for line in lines:
        out.append(("OVERSIZED", offset, len(line)) if len(line) > limit else line)
        offset += len(line) + 1
    return out


class SplitRangesTest(unittest.TestCase):
    def test_ranges_tile_the_file(self):
        for size, parts in [(10, 3), (10, 10), (3, 8), (1, 1), (1000, 7)]:
            ranges = split_ranges(size, parts)
            self.assertEqual(ranges[0][0], 0)
            self.assertEqual(ranges[-1][1], size)
            self.assertTrue(all(a[1] == b[0] for a, b in zip(ranges, ranges[1:])))
            self.assertEqual(len(ranges), min(parts, size))
        self.assertEqual(split_ranges(0, 4), [(0, 0)])
        with self.assertRaises(ValueError):
            split_ranges(10, 0)


class LineAlignmentTest(unittest.TestCase):
    """Every line belongs to exactly one range, read through the job's reader."""

    def test_local_file_through_the_job_reader(self):
        data = (SAMPLES / "customers.csv").read_bytes()
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "customers.csv"
            path.write_bytes(data)
            with open(path, "rb") as handle:
                read = FileReader(handle)
                for parts in (1, 2, 3, 8, 31, 300):
                    for chunk in (17, 4096, 1 << 20):
                        per_range, crc, nbytes = owned_lines(read, len(data), split_ranges(len(data), parts), 4096, chunk)
                        self.assertEqual([l for r in per_range for l in r], expected_lines(data, 4096))
                        self.assertEqual((crc, nbytes), (zlib.crc32(data), len(data)))

    def test_random_files_ranges_chunks_and_long_lines(self):
        rnd = random.Random(3)
        for trial in range(1500):
            lines = [bytes(rnd.choice(b"ab,\r") for _ in range(rnd.choice([0, 1, 3, 9, 25, 70]))) for _ in range(rnd.randint(0, 25))]
            data = b"\n".join(lines) + (b"\n" if rnd.random() < 0.6 else b"")
            limit = rnd.choice([16, 24, 64])
            chunk = rnd.choice([1, 2, 5, 16, 100, 4096])
            ranges = split_ranges(len(data), rnd.randint(1, 9)) if data else []
            per_range, crc, nbytes = owned_lines(lambda o, n: data[o : o + n], len(data), ranges, limit, chunk)
            with self.subTest(trial=trial):
                self.assertEqual([l for r in per_range for l in r], expected_lines(data, limit))
                self.assertEqual((crc, nbytes), (zlib.crc32(data), len(data)))

    def test_a_range_that_starts_inside_a_long_line_owns_nothing_of_it(self):
        data = b"a\n" + b"x" * 100 + b"\nb\n"
        per_range, _, _ = owned_lines(lambda o, n: data[o : o + n], len(data), [(0, 10), (10, 50), (50, len(data))], 20, 8)
        self.assertEqual(per_range, [[b"a", ("OVERSIZED", 2, 100)], [], [b"b"]])

    def test_memory_is_bounded_by_chunk_and_line_limit(self):
        data = b"x" * 50000 + b"\n" + b"y\n" * 10
        biggest = 0

        def read(offset, length):
            nonlocal biggest
            biggest = max(biggest, length)
            return data[offset : offset + length]

        events = list(LineBlocks(read, len(data), 0, len(data), 100, 64))
        self.assertEqual(events[0][:2], (OVERSIZED, 0))
        self.assertEqual(events[0][2], 50000)
        self.assertLessEqual(max(len(p) for k, _, p in events if k == LINES), 100 + 64)
        self.assertLessEqual(biggest, 64)

    def test_first_line(self):
        data = b"id,name\n1,a\n"
        read = lambda o, n: data[o : o + n]
        self.assertEqual(read_first_line(read, len(data), 100), (b"id,name", True))
        self.assertEqual(read_first_line(read, len(data), 3), (b"id,", False))
        self.assertEqual(read_first_line(lambda o, n: b"abc"[o : o + n], 3, 3), (b"abc", True))


class S3RangeReaderTest(unittest.TestCase):
    def test_sequential_reads_share_one_ranged_request_on_the_version(self):
        s3 = FakeS3()
        s3.add("b", "incoming/x.csv", b"old version")
        version = s3.add("b", "incoming/x.csv", bytes(range(256)) * 100)
        reader = S3RangeReader(s3, "b", "incoming/x.csv", version)
        self.assertEqual(reader(10, 5000) + reader(5010, 100), (bytes(range(256)) * 100)[10:5110])
        self.assertEqual(reader.requests, 1)
        self.assertEqual(s3.calls[0], ("get_object", {"Bucket": "b", "Key": "incoming/x.csv", "Range": "bytes=10-", "VersionId": version}))
        self.assertEqual(reader(0, 3), b"\x00\x01\x02")  # not where the stream is: a new request
        self.assertEqual(reader.requests, 2)
        reader.close()

    def test_line_blocks_over_s3_match_a_local_read(self):
        data = (SAMPLES / "orders.jsonl").read_bytes()
        s3 = FakeS3()
        version = s3.add("b", "incoming/orders/o.jsonl", data)
        for start, end in split_ranges(len(data), 5):
            with S3RangeReader(s3, "b", "incoming/orders/o.jsonl", version) as read:
                remote = list(LineBlocks(read, len(data), start, end, 8192, 1000))
            local = list(LineBlocks(lambda o, n: data[o : o + n], len(data), start, end, 8192, 1000))
            self.assertEqual(remote, local)

    def test_each_range_costs_one_get_object(self):
        # Finding a range's first line (or multiline record) reads ahead; the
        # range then continues from those bytes instead of a second request.
        data = (SAMPLES / "customers.csv").read_bytes()
        s3 = FakeS3()
        version = s3.add("b", "incoming/customers/c.csv", data)
        for start, end in split_ranges(len(data), 6):
            with S3RangeReader(s3, "b", "incoming/customers/c.csv", version) as read:
                list(LineBlocks(read, len(data), start, end, 8192, 1000))
                self.assertEqual(read.requests, 1, (start, end))
        reader = S3RangeReader(s3, "b", "incoming/customers/c.csv", version)
        self.assertEqual(reader(100, 50) + reader(120, 200) + reader(130, 10), data[100:150] + data[120:320] + data[130:140])
        self.assertEqual(reader.requests, 1)
        reader.close()


if __name__ == "__main__":
    unittest.main()
