"""A small suffix-stripping stemmer in the spirit of Porter's algorithm (step 1 and 2 rules only)."""
from functools import lru_cache

from .settings import STEM_CACHE_SIZE

VOWELS = "aeiou"

# (suffix, replacement, minimum measure of the remaining stem)
RULES = [
    ("ational", "ate", 1), ("tional", "tion", 1), ("enci", "ence", 1), ("anci", "ance", 1),
    ("izer", "ize", 1), ("abli", "able", 1), ("alli", "al", 1), ("entli", "ent", 1),
    ("eli", "e", 1), ("ousli", "ous", 1), ("ization", "ize", 1), ("ation", "ate", 1),
    ("ator", "ate", 1), ("alism", "al", 1), ("iveness", "ive", 1), ("fulness", "ful", 1),
    ("ousness", "ous", 1), ("aliti", "al", 1), ("iviti", "ive", 1), ("biliti", "ble", 1),
    ("sses", "ss", 0), ("ies", "i", 0), ("ing", "", 1), ("ed", "", 1), ("ly", "", 1),
    ("ness", "", 1), ("ment", "", 1), ("s", "", 1),
]


def is_consonant(word, i):
    if word[i] in VOWELS:
        return False
    if word[i] == "y":
        return i == 0 or not is_consonant(word, i - 1)
    return True


def measure(stem):
    """Porter's m: the number of vowel-consonant sequences in the stem."""
    pattern = ""
    for i in range(len(stem)):
        kind = "c" if is_consonant(stem, i) else "v"
        if not pattern or pattern[-1] != kind:
            pattern += kind
    return pattern.count("vc")


def stem_uncached(word):
    """Strips the first matching suffix whose remaining stem is long enough."""
    for suffix, replacement, min_measure in RULES:
        candidate = word[: len(word) - len(suffix)]
        m = measure(candidate)
        if word.endswith(suffix) and m >= min_measure:
            return candidate + replacement
    return word


@lru_cache(maxsize=STEM_CACHE_SIZE)
def stem(word):
    return stem_uncached(word)
