"""textstats: the most frequent word stems of a text corpus."""
