"""Text features in plain numpy: TF-IDF n-grams and a static token embedding.

The transforms reproduce scikit-learn's `TfidfVectorizer` (word and `char_wb` analyzers,
`sublinear_tf=True`, l2 norm) so that models fitted with scikit-learn run without importing it:
importing scikit-learn alone takes longer than the whole cold-start budget.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]

_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_WHITE = re.compile(r"\s\s+")


@dataclass(frozen=True)
class SparseRows:
    """A batch of sparse rows in CSR layout (row i is `indices[indptr[i]:indptr[i+1]]`)."""

    indptr: npt.NDArray[np.int64]
    indices: npt.NDArray[np.int64]
    data: F32
    n_rows: int

    def dot(self, weights: F32) -> F32:
        """Return the dense product of these rows with `weights` (n_features x k)."""
        if self.indices.size == 0:
            return np.zeros((self.n_rows, weights.shape[1]), dtype=np.float32)
        # scipy's sparse product (scipy.sparse imports in a fraction of scikit-learn's time)
        from scipy.sparse import csr_matrix

        rows = csr_matrix(
            (self.data, self.indices, self.indptr), shape=(self.n_rows, weights.shape[0])
        )
        out: F32 = np.asarray(rows @ weights, dtype=np.float32)
        return out


def _word_ngrams(text: str, n_max: int) -> list[str]:
    tokens = _TOKEN.findall(text)
    if n_max == 1:
        return tokens
    grams = list(tokens)
    for n in range(2, n_max + 1):
        grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


def _char_wb_ngrams(text: str, n_min: int, n_max: int) -> list[str]:
    text = _WHITE.sub(" ", text)
    grams: list[str] = []
    for word in text.split():
        w = f" {word} "
        size = len(w)
        for n in range(n_min, n_max + 1):
            if n >= size:
                # a short word counts once, as in scikit-learn
                grams.append(w)
                break
            grams.extend(w[i : i + n] for i in range(size - n + 1))
    return grams


def _char_wb_ids(
    text: str, vocab: dict[str, int], n_min: int, n_max: int, cache: dict[str, list[int]]
) -> list[int]:
    """Vocabulary ids of the char_wb n-grams of `text`, each word's ids computed once."""
    ids: list[int] = []
    for word in text.split():
        known = cache.get(word)
        if known is None:
            known = [
                j
                for j in (vocab.get(g) for g in _char_wb_ngrams(word, n_min, n_max))
                if j is not None
            ]
            if len(cache) >= _WORD_CACHE:
                cache.clear()
            cache[word] = known
        ids.extend(known)
    return ids


_WORD_CACHE = 200_000


def _tfidf_rows(
    docs: Sequence[list[str]], vocab: dict[str, int], idf: F32, offset: int
) -> tuple[I64, I64, F32]:
    """Per-doc l2-normalised sublinear TF-IDF: (row lengths, column ids, values)."""
    id_docs = [[j for j in map(vocab.get, grams) if j is not None] for grams in docs]
    return _tfidf_id_rows(id_docs, idf, offset)


def _tfidf_id_rows(docs: Sequence[list[int]], idf: F32, offset: int) -> tuple[I64, I64, F32]:
    """`_tfidf_rows` of documents already mapped to vocabulary ids (counted in numpy)."""
    n_docs = len(docs)
    lens = np.fromiter((len(d) for d in docs), dtype=np.int64, count=n_docs)
    flat = np.fromiter(chain.from_iterable(docs), dtype=np.int64, count=int(lens.sum()))
    width = int(idf.shape[0])
    keys, counts = np.unique(np.repeat(np.arange(n_docs), lens) * width + flat, return_counts=True)
    doc = keys // width
    idx = keys - doc * width
    row_lens = np.bincount(doc, minlength=n_docs).astype(np.int64)
    data = (np.log(counts.astype(np.float32)) + 1.0) * idf[idx]
    if data.size:
        ptr = np.concatenate(([0], np.cumsum(row_lens)))
        nonempty = row_lens > 0
        norms = np.zeros(n_docs, dtype=np.float32)
        norms[nonempty] = np.sqrt(np.add.reduceat(data * data, ptr[:-1][nonempty]))
        data = data / np.repeat(norms, row_lens)
    return row_lens, idx + offset, data.astype(np.float32)


# the last batch's lowered texts and word n-grams: the emotion and category models read the same
# batch one after the other (reused only for a batch equal in content, so never stale)
_last_batch: list[Any] = [(), (0, 0), [], []]


def _lowered_and_grams(
    texts: Sequence[str], max_chars: int, word_n: int
) -> tuple[list[str], list[list[str]]]:
    key = (max_chars, word_n)
    batch = tuple(texts)
    if _last_batch[1] == key and _last_batch[0] == batch:
        return _last_batch[2], _last_batch[3]
    lowered = [t[:max_chars].lower() for t in batch]
    grams = [_word_ngrams(t, word_n) for t in lowered]
    if sum(map(len, lowered)) <= _LAST_BATCH_CHARS:
        _last_batch[:] = [batch, key, lowered, grams]
    return lowered, grams


_LAST_BATCH_CHARS = 2_000_000


@dataclass(frozen=True)
class TfidfFeaturizer:
    """TF-IDF over word n-grams (1..word_n) and, if `char_vocab`, char_wb n-grams.

    Each block is l2-normalised on its own, as scikit-learn's hstack of two vectorizers is.
    """

    word_vocab: dict[str, int]
    word_idf: F32
    word_n: int = 2
    char_vocab: dict[str, int] | None = None
    char_idf: F32 | None = None
    char_min: int = 2
    char_max: int = 5
    max_chars: int = 5000
    # char_wb ids per word seen (a cache: transform is pure, so sharing it changes nothing)
    _word_ids: dict[str, list[int]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def n_features(self) -> int:
        n = int(self.word_idf.shape[0])
        return n + (0 if self.char_idf is None else int(self.char_idf.shape[0]))

    def transform(self, texts: Sequence[str]) -> SparseRows:
        """Return TF-IDF rows for `texts`."""
        lowered, grams = _lowered_and_grams(texts, self.max_chars, self.word_n)
        w_len, w_idx, w_val = _tfidf_rows(grams, self.word_vocab, self.word_idf, 0)
        if self.char_vocab is None or self.char_idf is None:
            lens = np.asarray(w_len, dtype=np.int64)
            ptr = np.concatenate(([0], np.cumsum(lens)))
            return SparseRows(ptr, np.asarray(w_idx, dtype=np.int64), w_val, len(texts))
        vocab, cache = self.char_vocab, self._word_ids
        c_len, c_idx, c_val = _tfidf_id_rows(
            [_char_wb_ids(t, vocab, self.char_min, self.char_max, cache) for t in lowered],
            self.char_idf,
            int(self.word_idf.shape[0]),
        )
        # interleave the two blocks row by row
        w_ptr = np.concatenate(([0], np.cumsum(w_len))).astype(np.int64)
        c_ptr = np.concatenate(([0], np.cumsum(c_len))).astype(np.int64)
        lens = np.asarray(w_len, dtype=np.int64) + np.asarray(c_len, dtype=np.int64)
        ptr = np.concatenate(([0], np.cumsum(lens))).astype(np.int64)
        row_of_w = np.repeat(np.arange(len(texts)), w_len)
        row_of_c = np.repeat(np.arange(len(texts)), c_len)
        pos_w = ptr[row_of_w] + (np.arange(len(w_idx)) - w_ptr[row_of_w])
        pos_c = ptr[row_of_c] + np.asarray(w_len, dtype=np.int64)[row_of_c]
        pos_c = pos_c + (np.arange(len(c_idx)) - c_ptr[row_of_c])
        indices = np.empty(int(ptr[-1]), dtype=np.int64)
        data = np.empty(int(ptr[-1]), dtype=np.float32)
        indices[pos_w] = w_idx
        indices[pos_c] = c_idx
        data[pos_w] = w_val
        data[pos_c] = c_val
        return SparseRows(ptr, indices, data, len(texts))

    def to_arrays(self, prefix: str) -> dict[str, npt.NDArray[Any]]:
        """Arrays for `np.savez` (strings and numbers only, nothing pickled)."""
        config = {"word_n": self.word_n, "char_min": self.char_min, "char_max": self.char_max}
        out: dict[str, npt.NDArray[Any]] = {
            f"{prefix}word_terms": _terms(self.word_vocab),
            f"{prefix}word_idf": self.word_idf.astype(np.float32),
            f"{prefix}config": np.asarray(json.dumps(config)),
        }
        if self.char_vocab is not None and self.char_idf is not None:
            out[f"{prefix}char_terms"] = _terms(self.char_vocab)
            out[f"{prefix}char_idf"] = self.char_idf.astype(np.float32)
        return out

    @classmethod
    def from_arrays(cls, arrays: Any, prefix: str) -> TfidfFeaturizer:
        """Inverse of `to_arrays`."""
        config = json.loads(str(arrays[f"{prefix}config"]))
        char_vocab = None
        char_idf = None
        if f"{prefix}char_terms" in arrays:
            char_vocab = _vocab(arrays[f"{prefix}char_terms"])
            char_idf = np.asarray(arrays[f"{prefix}char_idf"], dtype=np.float32)
        return cls(
            word_vocab=_vocab(arrays[f"{prefix}word_terms"]),
            word_idf=np.asarray(arrays[f"{prefix}word_idf"], dtype=np.float32),
            word_n=int(config["word_n"]),
            char_vocab=char_vocab,
            char_idf=char_idf,
            char_min=int(config["char_min"]),
            char_max=int(config["char_max"]),
        )


def _terms(vocab: dict[str, int]) -> npt.NDArray[Any]:
    return np.asarray(sorted(vocab, key=vocab.__getitem__), dtype=str)


def _vocab(terms: npt.NDArray[Any]) -> dict[str, int]:
    return {str(t): i for i, t in enumerate(terms.tolist())}


class StaticEmbedding:
    """Mean of static token vectors (int8 rows with a per-row scale), l2-normalised."""

    CHUNK = 128

    def __init__(self, tokenizer_json: str, vectors: npt.NDArray[np.int8], scales: F32) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_str(tokenizer_json)
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        self._vectors = vectors.astype(np.float32) * scales.astype(np.float32)[:, None]
        self.dim = int(vectors.shape[1])

    def embed(self, texts: Sequence[str], *, max_tokens: int = 256) -> F32:
        """Return one unit vector per text (zeros for a text with no known token)."""
        clipped = [t[: max_tokens * 8] for t in texts]
        encodings = self._tokenizer.encode_batch_fast(clipped, add_special_tokens=False)
        ids_list = [e.ids[:max_tokens] for e in encodings]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        # gather token vectors a slice at a time: a batch of long texts would otherwise need
        # hundreds of MB for one (tokens x dim) array
        for start in range(0, len(texts), self.CHUNK):
            chunk = ids_list[start : start + self.CHUNK]
            lengths = np.fromiter((len(ids) for ids in chunk), dtype=np.int64, count=len(chunk))
            total = int(lengths.sum())
            if total == 0:
                continue
            flat = np.fromiter((i for ids in chunk for i in ids), dtype=np.int64, count=total)
            ptr = np.concatenate(([0], np.cumsum(lengths)))
            nonempty = lengths > 0
            sums = np.add.reduceat(self._vectors[flat], ptr[:-1][nonempty], axis=0)
            norms = np.linalg.norm(sums, axis=1, keepdims=True)
            norms[norms == 0] = 1.0
            rows = np.arange(start, start + len(chunk))[nonempty]
            out[rows] = sums / norms
        return out


def softmax(scores: F32) -> F32:
    """Row-wise softmax."""
    z = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: F32 = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
    return out


def sigmoid(scores: F32) -> F32:
    """Element-wise logistic function."""
    out: F32 = (1.0 / (1.0 + np.exp(-scores))).astype(np.float32)
    return out
