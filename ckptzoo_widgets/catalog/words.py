"""The word index of model cards: card words by prefix, in milliseconds.

Built once, on the first query that needs card text, from each part's
`card_words()` batches (a Parquet index stores them precomputed). Per batch of
rows: the distinct words, sorted, and for each word the rows that hold it
(CSR: `offsets` into `rows`). Words sharing a prefix are neighbours in sorted
order, so a prefix query is two binary searches and one slice per batch.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

MIN_PREFIX = 3  # card words match from their third character (shorter prefixes hit nearly every card)
MAX_WORD = 32  # longer runs of letters are not words anyone types


@dataclass
class _Block:
    start: int  # first row of the batch in the catalog
    vocabulary: list[str]  # sorted distinct words
    offsets: np.ndarray  # int64[len(vocabulary) + 1]
    rows: np.ndarray  # rows relative to start (uint16 for a row group), grouped by word


class WordIndex:
    def __init__(self, batches: Iterable[pa.Array]):
        self.blocks: list[_Block] = []
        start = 0
        for batch in batches:
            self.blocks.append(_block(batch, start))
            start += len(batch)
        self.size = start

    def rows_with_prefix(self, prefix: str) -> np.ndarray:
        """A boolean mask over all rows: the card has a word starting with `prefix`."""
        mask = np.zeros(self.size, dtype=bool)
        if len(prefix) < MIN_PREFIX:
            return mask
        upper = prefix + "\U0010ffff"
        for block in self.blocks:
            low = bisect.bisect_left(block.vocabulary, prefix)
            high = bisect.bisect_left(block.vocabulary, upper)
            if high > low:
                mask[block.rows[block.offsets[low] : block.offsets[high]].astype(np.int64) + block.start] = True
        return mask


def _block(words: pa.Array, start: int) -> _Block:
    words = words.combine_chunks() if isinstance(words, pa.ChunkedArray) else words
    words = pc.fill_null(words, "")
    lists = pc.split_pattern(words, " ")
    flat = pc.list_flatten(lists)
    parents = pc.list_parent_indices(lists).to_numpy().astype(np.int32)
    length = pc.utf8_length(flat)
    keep = pc.and_(pc.greater_equal(length, MIN_PREFIX), pc.less_equal(length, MAX_WORD)).to_numpy(zero_copy_only=False)
    flat, parents = flat.filter(pa.array(keep)), parents[keep]
    encoded = pc.dictionary_encode(flat)
    dictionary = encoded.dictionary
    order = pc.sort_indices(dictionary).to_numpy()
    rank = np.empty(len(order), dtype=np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    word_rank = rank[encoded.indices.to_numpy()].astype(np.int64)
    # one (word, row) pair per word a card holds, sorted by word then row: the CSR order
    pairs = np.sort(word_rank * max(len(words), 1) + parents)  # a plain sort: faster than np.unique's hash
    if len(pairs):
        pairs = pairs[np.concatenate(([True], pairs[1:] != pairs[:-1]))]
    offsets = np.searchsorted(pairs // max(len(words), 1), np.arange(len(order) + 1))
    rows = (pairs % max(len(words), 1)).astype(np.uint16 if len(words) <= 1 << 16 else np.int32)
    vocabulary = dictionary.take(pa.array(order)).to_pylist()
    return _Block(start, vocabulary, offsets, rows)
