import pickle
import random
import unittest
import zlib

from migration_validation.crc import crc32_combine
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


if __name__ == "__main__":
    unittest.main()
