import pickle
import random
import unittest
import weakref
import zlib
from unittest import mock

from migration_validation.crc import crc32_combine
from migration_validation import digests
from migration_validation.digests import DigestTable, json_digests, text_digests


class Crc32CombineTest(unittest.TestCase):
    def test_combined_crc_equals_crc_of_the_concatenation(self):
        rnd = random.Random(1)
        for _ in range(300):
            a, b = rnd.randbytes(rnd.randint(0, 500)), rnd.randbytes(rnd.randint(0, 5000))
            self.assertEqual(crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)), zlib.crc32(a + b))


class DigestTest(unittest.TestCase):
    def test_digests_are_stable_and_missing_values_get_zero(self):
        first = text_digests(["a", "", "b", "a"])
        self.assertEqual(first, text_digests(["a", "", "b", "a"]))
        self.assertEqual(first[1], 0)
        self.assertEqual(first[0], first[3])
        self.assertNotEqual(first[0], first[2])
        self.assertTrue(all(0 <= d < 2**64 for d in first))
        self.assertEqual(json_digests([None, "x", {"b": 1, "a": 2}])[0], 0)
        self.assertEqual(json_digests([{"b": 1, "a": 2}]), json_digests([{"a": 2, "b": 1}]))


class DigestTableTest(unittest.TestCase):
    def test_duplicates_report_the_first_occurrence(self):
        table = DigestTable()
        dups = table.insert_batch([5, 0, 7, 5, 7, 5], [10, 11, 12, 13, 14, 15])
        self.assertEqual(dups, [(3, 10), (4, 12), (5, 10)])
        self.assertEqual(len(table), 2)
        self.assertEqual(table.get(7), 12)
        self.assertIsNone(table.get(8))

    def test_growth_keeps_every_key(self):
        rnd = random.Random(2)
        keys = [rnd.getrandbits(64) | 1 for _ in range(20000)]
        table = DigestTable()
        self.assertEqual(table.insert_batch(keys, range(len(keys))), [])
        self.assertEqual(len(table), len(keys))
        self.assertEqual([table.get(k) for k in keys[::997]], list(range(0, len(keys), 997)))
        self.assertEqual(sorted(d for d, _ in table.items()), sorted(keys))

    def test_flag_and_pickle_round_trip(self):
        table = DigestTable()
        table.insert_batch([9, 10], [4, 6])
        table.set_flag(10)
        copy = pickle.loads(pickle.dumps(table))
        self.assertEqual((copy.get(9), copy.get(10), len(copy)), (4, 7, 2))
        copy.put(11, 8)
        self.assertEqual(copy.get(11), 8)

    def test_memory_per_distinct_key_stays_compact(self):
        table = DigestTable()
        rnd = random.Random(4)
        for n in (10_000, 100_000, 300_000):
            keys = [rnd.getrandbits(64) | 1 for _ in range(n - len(table))]
            table.insert_batch(keys, range(len(keys)))
            # 16 bytes a slot, at most 1/3 of the slots empty after growth.
            self.assertLessEqual(table.nbytes / len(table), 48)


class ShardedGrowthTest(unittest.TestCase):
    """The table grows shard by shard; small split and shard limits make the
    splits and the doublings after them happen with few keys."""

    def setUp(self):
        for name, value in (("_SPLIT_SLOTS", 64), ("_MAX_SHARD_BITS", 3)):
            patcher = mock.patch.object(digests, name, value)
            patcher.start()
            self.addCleanup(patcher.stop)

    def test_splits_then_doublings_keep_every_key_and_its_value(self):
        rnd = random.Random(7)
        keys = [rnd.getrandbits(64) | 1 for _ in range(20_000)]
        table = DigestTable()
        sizes = set()
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            self.assertEqual(table.insert_batch(chunk, range(start, start + len(chunk))), [])
            sizes.add((len(table._keys), len(table._keys[0])))
        self.assertEqual(len(table._keys), 8)  # split up to 2**3 shards
        self.assertGreater(len(table._keys[0]), 64)  # then the shards doubled
        self.assertEqual(len(table), len(keys))
        self.assertEqual([table.get(k) for k in keys], list(range(len(keys))))
        self.assertEqual(table.insert_batch(keys[::1000], [0] * 20), [(i, i * 1000) for i in range(20)])
        copy = pickle.loads(pickle.dumps(table))
        self.assertEqual([copy.get(k) for k in keys[::77]], list(range(0, len(keys), 77)))
        self.assertLessEqual(table.nbytes / len(table), 48)

    def test_only_one_shard_of_old_buffers_lives_while_growing(self):
        # A flat table holds all of its old buffers while it fills the new
        # ones (3 times the old size); here a growth holds at most the new
        # table plus one old shard (its keys and values).
        live, held = [], []
        zeros = digests._zeros

        def tracked(size):
            buffer = zeros(size)
            live.append(weakref.ref(buffer))
            held.append(sum(len(b) * 8 for b in (ref() for ref in live) if b is not None))
            return buffer

        with mock.patch.object(digests, "_zeros", tracked), mock.patch.object(digests, "_SPLIT_SLOTS", 2048):
            table = DigestTable()  # one shard of 2048 slots
            rnd = random.Random(8)
            shapes = []
            for _ in range(5):
                table.insert_batch([rnd.getrandbits(64) | 1 for _ in range(300)], range(300))
                old_bytes, old_shards = table.nbytes, len(table._keys)
                del held[:]
                table._grow()
                shapes.append((len(table._keys), len(table._keys[0])))
                self.assertEqual(table.nbytes, 2 * old_bytes)
                self.assertLessEqual(max(held), table.nbytes + old_bytes // old_shards)
            self.assertEqual(shapes, [(2, 2048), (4, 2048), (8, 2048), (8, 4096), (8, 8192)])  # splits, then doublings

    def test_a_full_shard_grows_the_table_though_the_table_is_not(self):
        table = DigestTable(capacity=600, multiplier=1)  # h is the digest itself
        shards, size = len(table._keys), len(table._keys[0])
        self.assertEqual((shards, size), (8, 128))
        in_shard_0 = [(i + 1) << 20 for i in range(size * 7 // 8 + 1)]  # top 3 bits 0
        table.insert_batch(in_shard_0, range(len(in_shard_0)))
        self.assertLess(len(table), table.nbytes // 16 * 2 // 3)
        self.assertGreater(table.nbytes, shards * size * 16)
        self.assertEqual([table.get(d) for d in in_shard_0], list(range(len(in_shard_0))))


if __name__ == "__main__":
    unittest.main()
