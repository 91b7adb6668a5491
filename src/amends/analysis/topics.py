"""Topic discovery: group complaints that no category fits, and name each group.

How it works (figures, and the variants tried: `evals/README.md`; run `evals/topics.py`):

1. Each text loses what says nothing about its topic (links, handles, e-mail addresses, numbers,
   the CFPB's `XXXX` redactions) and becomes one unit vector: the package's static embedding
   (mean of token vectors, minus the batch's mean: see `PRIOR_WEIGHT`) next to a
   `LSA_DIMS`-dimensional LSA of its TF-IDF word and bigram counts, with `EMBEDDING_SHARE` of
   the squared length for the embedding. A text without a word that is not a stop word is noise.
2. Up to `MICRO_CLUSTERS` k-means micro-clusters (random seeds, `MICRO_ITERATIONS` Lloyd
   iterations; every text is its own micro-cluster in smaller batches) are merged by Ward's
   criterion, weighted by their sizes, into one tree.
3. The tree is cut into `max_topics` groups or, when that is None, into the fewest groups whose
   texts lie on average at cosine `COHESION_TARGET` or more to their group's mean direction
   (this size-weighted cohesion only falls as groups merge; the target was chosen on subsets of
   Banking77 with 10 to 77 intents, where it gives 0.57 to 1.2 times the true number),
   and into no more than one group per `2 * min_size` texts or `MAX_AUTO_TOPICS`.
4. A text below cosine `NOISE_BELOW` to its group's mean direction, and every text of a group
   left with fewer than `min_size`, is noise (-1).
5. A topic's terms are its most distinctive words and bigrams by class-based TF-IDF (term
   frequency in the topic times log(1 + average words per class / the term's frequency in all
   classes), noise being one more class); its examples are the texts nearest its mean direction.

Deterministic for a given seed. scikit-learn is imported on first use only.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

from amends.analysis import _resources

F64 = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]

# share of the squared vector length given to the static embedding (the rest: LSA of TF-IDF)
EMBEDDING_SHARE = 0.9
LSA_DIMS = 100
LSA_SAMPLE = 20_000
MAX_TERMS = 50_000
EMBED_TOKENS = 256
# the package's example complaints count as this many texts in the mean that is taken away
PRIOR_WEIGHT = 20.0
MICRO_CLUSTERS = 1000
MICRO_ITERATIONS = 10
COHESION_TARGET = 0.6
# a text at a lower cosine to its topic's mean direction is noise
NOISE_BELOW = 0.2
MAX_AUTO_TOPICS = 200
LABEL_TERMS = 3
TERMS = 10
MAX_CHARS = 5000
SEEDS_FILE = "category_seeds.csv"

_NOISE = re.compile(
    r"https?://\S+|www\.\S+|\S+@\S+\.\w+|@\w+|\{\$[^}]*\}"
    r"|\b[xX]{2,}(?:[/-][xX]{2,})*\b|\d+(?:[.,/:-]\d+)*"
)
_SPACE = re.compile(r"\s+")
# words of two or more letters: no numbers, no underscores
_WORD = re.compile(r"\b[^\W\d_][^\W\d_]+\b")
# what is left of contractions and greetings: frequent in every topic, names none
_EXTRA_STOP = frozenset(
    re.findall(
        r"\w+",
        "aren couldn didn doesn don hadn hasn haven isn ll mustn needn shan shouldn ve wasn weren "
        "won wouldn im ive id dont cant wont didnt doesnt isnt hi hello hey thanks thank thx pls "
        "please dear regards sir madam ok okay yes",
    )
)


@dataclass(frozen=True)
class Topic:
    id: int
    label: str  # e.g. "card declined · payment · atm"
    terms: tuple[str, ...]  # most distinctive first
    size: int
    examples: tuple[int, ...]  # indices of the most typical texts, most typical first
    cohesion: float  # 0 .. 1: mean cosine of its texts to the topic's mean direction


@dataclass(frozen=True)
class TopicResult:
    topics: tuple[Topic, ...]  # largest first; topics[i].id == i
    assignments: tuple[int, ...]  # per text: a topic id, or -1 for noise


def discover_topics(
    texts: Sequence[str],
    *,
    max_topics: int | None = None,
    min_size: int = 5,
    seed: int = 0,
    examples: int = 3,
) -> TopicResult:
    """Group `texts` into topics; `max_topics` cuts the tree into that many groups (fewer come
    back where groups under `min_size` become noise), None chooses the number (module doc)."""
    if max_topics is not None and max_topics < 1:
        raise ValueError("max_topics must be at least 1")
    min_size = max(1, min_size)
    n = len(texts)
    cleaned = [clean_text(t) for t in texts]
    vectors, counts, vocab = _features(cleaned, seed=seed)
    valid = np.flatnonzero(np.abs(vectors).sum(axis=1) > 0)
    assignments = np.full(n, -1, dtype=np.int64)
    if valid.size < min_size:
        return TopicResult((), tuple(int(a) for a in assignments))
    x = vectors[valid]
    micro = _micro_clusters(x, seed=seed)
    n_micro = int(micro.max()) + 1
    sums = _group_sums(x, micro, n_micro)
    sizes = np.bincount(micro, minlength=n_micro).astype(np.float64)
    merges = _ward_merges(sums / sizes[:, None], sizes)
    if max_topics is not None:
        k = min(max_topics, n_micro)
    else:
        k = _auto_k(sums, merges, n_valid=int(valid.size), min_size=min_size)
    groups = _cut(merges, n_micro, k)[micro]
    # a text far from its group's mean direction fits none
    directions = _group_sums(x, groups, k)
    directions /= np.maximum(np.linalg.norm(directions, axis=1), 1e-12)[:, None]
    fit = np.einsum("ij,ij->i", x.astype(np.float64), directions[groups])
    groups = np.where(fit >= NOISE_BELOW, groups, -1)
    group_sizes = np.bincount(groups[groups >= 0], minlength=k)
    kept = [g for g in np.argsort(-group_sizes, kind="stable") if group_sizes[g] >= min_size]
    topic_of_group = np.full(k + 1, -1, dtype=np.int64)  # the last entry maps -1 to -1
    topic_of_group[kept] = np.arange(len(kept))
    assignments[valid] = topic_of_group[groups]
    topics = _describe(
        vectors, assignments, len(kept), counts, vocab, cleaned=cleaned, examples=examples
    )
    return TopicResult(topics, tuple(int(a) for a in assignments))


def clean_text(text: str) -> str:
    """`text` without links, handles, e-mail addresses, numbers and `XXXX` redactions."""
    return _SPACE.sub(" ", _NOISE.sub(" ", text[:MAX_CHARS])).strip()


def _features(cleaned: Sequence[str], *, seed: int) -> tuple[F32, Any, list[str]]:
    """(unit vectors, zero for a text with no word; term counts (sparse); the terms)."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.preprocessing import normalize

    n = len(cleaned)
    stop = _stop_words()
    terms = [_terms_of(t, stop=stop) for t in cleaned]
    counts, vocab = _count_terms(terms)
    if n == 0:
        return np.zeros((0, 1), dtype=np.float32), counts, vocab
    emb = _resources.embedding().embed(cleaned, max_tokens=EMBED_TOKENS)
    # a text needs a word that is not a stop word: "?" or "and the" has token vectors, no topic
    has_words = (np.abs(emb).sum(axis=1) > 0) & np.asarray([bool(t) for t in terms])
    emb[~has_words] = 0.0
    if has_words.sum() < 2:
        return emb, counts, vocab
    # what all complaints share says nothing about their topic: the batch's mean, drawn towards
    # the mean of the package's example complaints where the batch is small (a batch of one
    # topic would otherwise lose the topic itself)
    m = float(has_words.sum())
    batch_mean = emb[has_words].mean(axis=0)
    emb[has_words] -= (m * batch_mean + PRIOR_WEIGHT * _typical_complaint()) / (m + PRIOR_WEIGHT)
    parts = [np.sqrt(EMBEDDING_SHARE) * normalize(emb)]
    dims = min(LSA_DIMS, len(vocab) - 1, n - 1)
    if dims >= 2:
        tfidf = TfidfTransformer(sublinear_tf=True).fit_transform(counts)
        # the projection is learnt on a sample: as good, and a fraction of the time at scale
        rng = np.random.default_rng(seed)
        fit_rows = np.sort(rng.choice(n, min(n, LSA_SAMPLE), replace=False))
        svd = TruncatedSVD(dims, random_state=seed).fit(tfidf[fit_rows])
        lsa = normalize(svd.transform(tfidf).astype(np.float32))
        parts.append(np.sqrt(1.0 - EMBEDDING_SHARE) * lsa)
    vectors: F32 = normalize(np.hstack(parts)).astype(np.float32)
    vectors[~has_words] = 0.0
    return vectors, counts, vocab


@cache
def _typical_complaint() -> F32:
    """Mean embedding of the complaints the default category model was seeded with."""
    rows = csv.DictReader(io.StringIO(_resources.model_bytes(SEEDS_FILE).decode("utf-8")))
    mean: F32 = _resources.embedding().embed([clean_text(r["text"]) for r in rows]).mean(axis=0)
    return mean


@cache
def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | _EXTRA_STOP


def _terms_of(text: str, *, stop: frozenset[str]) -> list[str]:
    """Words (stop words out) and bigrams of two adjacent words that are neither stop words."""
    words = [w if w not in stop else "" for w in _WORD.findall(text.lower())]
    grams = [w for w in words if w]
    grams.extend(f"{a} {b}" for a, b in pairwise(words) if a and b)
    return grams


def _same(terms: list[str]) -> list[str]:
    return terms


def _count_terms(terms: Sequence[list[str]]) -> tuple[Any, list[str]]:
    """Counts of each text's terms (those of two texts or more, or of one where there are few)."""
    from scipy.sparse import csr_matrix
    from sklearn.feature_extraction.text import CountVectorizer

    for min_df in (2, 1) if len(terms) >= 20 else (1,):
        vectorizer = CountVectorizer(
            analyzer=_same, min_df=min_df, max_features=MAX_TERMS, dtype=np.float32
        )
        try:
            counts = vectorizer.fit_transform(terms)
        except ValueError:  # no term at all (empty texts, or stop words only)
            continue
        return counts, [str(t) for t in vectorizer.get_feature_names_out()]
    return csr_matrix((len(terms), 0), dtype=np.float32), []


def _micro_clusters(x: F32, *, seed: int) -> I64:
    """One k-means micro-cluster id per row (each row its own where there are few)."""
    n = x.shape[0]
    if n <= MICRO_CLUSTERS:
        return np.arange(n, dtype=np.int64)
    from sklearn.cluster import KMeans

    # seeds drawn at random: over-clustering needs no k-means++ (its cost grows with k squared)
    rng = np.random.default_rng(seed)
    init = x[np.sort(rng.choice(n, MICRO_CLUSTERS, replace=False))]
    model = KMeans(MICRO_CLUSTERS, init=init, n_init=1, max_iter=MICRO_ITERATIONS).fit(x)
    labels = np.asarray(model.labels_, dtype=np.int64)
    # renumber without gaps (a micro-cluster can end up empty)
    _, dense = np.unique(labels, return_inverse=True)
    return np.asarray(dense, dtype=np.int64)


def _group_sums(x: F32, groups: I64, k: int) -> F64:
    from scipy.sparse import csr_matrix

    member = csr_matrix(
        (np.ones(groups.size, dtype=np.float64), (groups, np.arange(groups.size))),
        shape=(k, groups.size),
    )
    return np.asarray(member @ x.astype(np.float64), dtype=np.float64)


def _ward_merges(centres: F64, sizes: F64) -> list[tuple[int, int]]:
    """Ward's agglomeration of weighted points: (survivor, absorbed) per merge, in order.

    Each row keeps its nearest neighbour; only rows whose neighbour took part in a merge are
    searched again (Ward's distance never shrinks by merging, so the others stay right).
    """
    k = centres.shape[0]
    c = centres.astype(np.float64).copy()
    size = sizes.astype(np.float64).copy()
    sq = (c * c).sum(axis=1)
    dist = np.maximum(sq[:, None] + sq[None, :] - 2.0 * (c @ c.T), 0.0)
    cost = size[:, None] * size[None, :] / (size[:, None] + size[None, :]) * dist
    np.fill_diagonal(cost, np.inf)
    alive = np.ones(k, dtype=bool)
    nearest = cost.argmin(axis=1) if k > 1 else np.zeros(k, dtype=np.int64)
    best = cost[np.arange(k), nearest] if k > 1 else np.full(k, np.inf)
    merges: list[tuple[int, int]] = []
    for _ in range(k - 1):
        a = int(np.argmin(best))
        b = int(nearest[a])
        i, j = min(a, b), max(a, b)
        merges.append((i, j))
        c[i] = (size[i] * c[i] + size[j] * c[j]) / (size[i] + size[j])
        size[i] += size[j]
        alive[j] = False
        cost[j, :] = np.inf
        cost[:, j] = np.inf
        best[j] = np.inf
        row = size * size[i] / (size + size[i]) * ((c - c[i]) ** 2).sum(axis=1)
        row[~alive] = np.inf
        row[i] = np.inf
        cost[i, :] = row
        cost[:, i] = row
        stale = alive & ((nearest == i) | (nearest == j))
        stale[i] = True
        for r in np.flatnonzero(stale):
            nearest[r] = int(cost[r].argmin())
            best[r] = cost[r, nearest[r]]
        closer = row < best
        nearest[closer] = i
        best[closer] = row[closer]
    return merges


def _cut(merges: Sequence[tuple[int, int]], n_leaves: int, k: int) -> I64:
    """Group id (0 .. k-1) of each leaf after the first `n_leaves - k` merges."""
    root = np.arange(n_leaves, dtype=np.int64)
    # replayed backwards, a survivor's own later merges are resolved before its members'
    for i, j in reversed(merges[: max(0, n_leaves - k)]):
        root[j] = root[i]
    _, groups = np.unique(root, return_inverse=True)
    return np.asarray(groups, dtype=np.int64)


def _auto_k(sums: F64, merges: Sequence[tuple[int, int]], *, n_valid: int, min_size: int) -> int:
    """The fewest groups whose mean cohesion stays at `COHESION_TARGET`, within the size bounds."""
    n_leaves = sums.shape[0]
    s = sums.copy()
    norms = np.linalg.norm(s, axis=1)
    total = float(norms.sum())
    # cohesion[m] = size-weighted mean cohesion after m merges (never rises)
    cohesion = [total / n_valid]
    for i, j in merges:
        s[i] += s[j]
        merged = float(np.linalg.norm(s[i]))
        total += merged - float(norms[i]) - float(norms[j])
        norms[i] = merged
        cohesion.append(total / n_valid)
    reached = [m for m, value in enumerate(cohesion) if value >= COHESION_TARGET]
    k = n_leaves - max(reached) if reached else n_leaves
    limit = max(1, min(MAX_AUTO_TOPICS, n_valid // (2 * min_size)))
    return int(max(1, min(k, limit, n_leaves)))


def _describe(
    vectors: F32,
    assignments: I64,
    n_topics: int,
    counts: Any,
    vocab: list[str],
    *,
    cleaned: Sequence[str],
    examples: int,
) -> tuple[Topic, ...]:
    if n_topics == 0:
        return ()
    terms = _distinctive_terms(counts, vocab, assignments, n_topics)
    topics: list[Topic] = []
    for t in range(n_topics):
        members = np.flatnonzero(assignments == t)
        mean = vectors[members].astype(np.float64).mean(axis=0)
        length = float(np.linalg.norm(mean))
        sims = vectors[members] @ (mean / length) if length > 0 else np.zeros(members.size)
        order = members[np.argsort(-sims, kind="stable")]
        topics.append(
            Topic(
                id=t,
                label=" · ".join(terms[t][:LABEL_TERMS]) or f"topic {t + 1}",
                terms=tuple(terms[t]),
                size=int(members.size),
                examples=_typical(order, cleaned, examples),
                cohesion=round(min(1.0, max(0.0, length)), 4),
            )
        )
    return tuple(topics)


def _typical(order: I64, cleaned: Sequence[str], examples: int) -> tuple[int, ...]:
    """The first `examples` of `order`, skipping repeats of a text already picked."""
    picked: list[int] = []
    seen: set[str] = set()
    for i in order.tolist():
        if len(picked) >= examples:
            break
        key = cleaned[i].lower()
        if key in seen:
            continue
        seen.add(key)
        picked.append(int(i))
    return tuple(picked)


def _distinctive_terms(
    counts: Any, vocab: list[str], assignments: I64, n_topics: int
) -> list[list[str]]:
    """Per topic, its `TERMS` most distinctive terms by class-based TF-IDF (noise is a class)."""
    if not vocab:
        return [[] for _ in range(n_topics)]
    from scipy.sparse import csr_matrix

    classes = np.where(assignments < 0, n_topics, assignments)
    member = csr_matrix(
        (np.ones(classes.size, dtype=np.float64), (classes, np.arange(classes.size))),
        shape=(n_topics + 1, classes.size),
    )
    tf = np.asarray((member @ counts).todense(), dtype=np.float64)
    words = tf.sum(axis=1)
    freq = tf.sum(axis=0)
    present = words > 0
    average = float(words[present].mean()) if present.any() else 0.0
    idf = np.log1p(average / np.maximum(freq, 1.0))
    scores = tf / np.maximum(words, 1.0)[:, None] * idf[None, :]
    out: list[list[str]] = []
    for t in range(n_topics):
        ranked = [int(j) for j in np.argsort(-scores[t], kind="stable")[: TERMS * 4]]
        out.append(_pick_terms([vocab[j] for j in ranked if scores[t, j] > 0]))
    return out


def _pick_terms(ranked: Sequence[str]) -> list[str]:
    """Up to `TERMS` of `ranked`, each naming something new.

    A word is skipped where a picked term has it (or a form of it: "crashed" after "crashes");
    a bigram takes the place of the picked words it contains, and is skipped where it shares a
    word with a picked bigram.
    """
    picked: list[str] = []
    for term in ranked:
        stems = {_stem(w) for w in term.split()}
        if " " not in term:
            if any(stems & {_stem(w) for w in p.split()} for p in picked):
                continue
            picked.append(term)
        else:
            if any(stems & {_stem(w) for w in p.split()} for p in picked if " " in p):
                continue
            absorbed = [i for i, p in enumerate(picked) if " " not in p and _stem(p) in stems]
            if absorbed:
                picked = [p for i, p in enumerate(picked) if i not in absorbed[1:]]
                picked[absorbed[0]] = term
            else:
                picked.append(term)
        if len(picked) >= TERMS:
            break
    return picked


def _stem(word: str) -> str:
    """A crude English stem, enough to tell "charge", "charged" and "charges" are one word."""
    for suffix in ("ing", "ed", "es", "s", "e"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word
