"""Writes a deterministic synthetic corpus: Zipf-distributed words built from English-like parts.

usage: python3 gen_corpus.py OUT WORDS
"""
import random
import sys

ROOTS = ["relat", "condition", "nation", "operat", "digit", "sens", "format", "run", "hope", "vari",
         "generat", "valu", "connect", "predict", "observ", "measur", "compil", "optim", "stat", "calcul"]
SUFFIXES = ["", "s", "ed", "ing", "ly", "ness", "ment", "ational", "ization", "iveness", "fulness",
            "ator", "alism", "aliti", "ies", "sses", "izer", "entli", "ousli", "biliti"]
PREFIXES = ["", "re", "un", "pre", "over", "under", "inter", "counter", "sub", "super", "co", "de",
            "dis", "mis", "non", "out", "post", "semi", "trans", "ultra"]


def main(out, words):
    rng = random.Random(7)
    vocabulary = [p + r + s for p in PREFIXES for r in ROOTS for s in SUFFIXES]  # 8,000 words
    rng.shuffle(vocabulary)
    vocabulary = vocabulary[:3000]
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]  # Zipf, s = 1
    chosen = rng.choices(vocabulary, weights=weights, k=words)
    with open(out, "w", encoding="utf-8") as handle:
        for i in range(0, len(chosen), 12):
            handle.write(" ".join(chosen[i : i + 12]).capitalize() + ".\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
