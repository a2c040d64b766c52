"""usage: python3 -m textstats CORPUS [TOP]  — prints the TOP most frequent stems and their counts."""
import re
import sys

from .stem import stem

WORD = re.compile(r"[a-z]+")


def top_stems(text, top):
    counts = {}
    for word in WORD.findall(text.lower()):
        s = stem(word)
        counts[s] = counts.get(s, 0) + 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top], sum(counts.values())


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    top = int(argv[2]) if len(argv) > 2 else 20
    with open(argv[1], encoding="utf-8") as handle:
        ranked, total = top_stems(handle.read(), top)
    print(f"words: {total}")
    for word, count in ranked:
        print(f"{count:8d} {word}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
