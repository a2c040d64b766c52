import unittest

from textstats.__main__ import top_stems
from textstats.stem import measure, stem, stem_uncached


class StemTest(unittest.TestCase):
    def test_measure(self):
        self.assertEqual(measure("tr"), 0)
        self.assertEqual(measure("trouble"), 1)
        self.assertEqual(measure("oaten"), 2)

    def test_rules(self):
        self.assertEqual(stem_uncached("relational"), "relate")
        self.assertEqual(stem_uncached("conditional"), "condition")
        self.assertEqual(stem_uncached("caresses"), "caress")
        self.assertEqual(stem_uncached("ponies"), "poni")
        self.assertEqual(stem_uncached("hopefulness"), "hopeful")
        self.assertEqual(stem_uncached("running"), "runn")
        self.assertEqual(stem_uncached("sing"), "sing")
        self.assertEqual(stem_uncached("cats"), "cat")
        self.assertEqual(stem_uncached("is"), "is")

    def test_cached_matches_uncached(self):
        for word in ["nationalization", "predictors", "overvalued", "sensing", "digitally"]:
            self.assertEqual(stem(word), stem_uncached(word))


class TopStemsTest(unittest.TestCase):
    def test_counts_and_order(self):
        ranked, total = top_stems("Cats cat running. Runs ran, CATS!", 3)
        self.assertEqual(total, 6)
        self.assertEqual(ranked, [("cat", 3), ("ran", 1), ("run", 1)])


if __name__ == "__main__":
    unittest.main()
