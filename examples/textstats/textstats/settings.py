"""Tunables of textstats."""

# How many distinct words the stemmer remembers. Each miss re-runs the (costly) stemming rules.
STEM_CACHE_SIZE = 64
