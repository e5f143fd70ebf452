"""The profile similarity model: TF-IDF over normalised tags and bios.

Each person's profile is a bag of tokens: their canonical specialty tags
(weighted most), industries, ICP size bands, regions and function as
prefixed tokens (``spec:demand-gen``, ``ind:saas``), and the words of their
bio. scikit-learn's TfidfVectorizer turns profiles into L2-normalised sparse
rows, so cosine similarity is a sparse dot product (also how the most similar
people are found). :class:`ProfileModel` learns the vocabulary and the IDF
weights; the documents and everything after the fit (vectors of new records,
similarities, the saved state) are :mod:`recommender.profile_vectors`, which
needs neither scikit-learn nor pandas.

Example
-------
>>> import pandas as pd
>>> people = pd.DataFrame({"id": ["a", "b", "c"],
...                        "specialties": ["demand-gen;abm", "demand-gen", "fundraising"],
...                        "industries": ["saas", "saas", "fintech"]})
>>> model = ProfileModel().fit(people)
>>> [pid for pid, _ in model.most_similar("a", k=2)]
['b', 'c']
"""

from __future__ import annotations

from itertools import chain

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfTransformer

from recommender.profile_vectors import (  # noqa: F401  (the profile documents' home is recommender.profile_vectors)
    FIELD_PREFIX,
    FIELD_WEIGHTS,
    ProfileVectors,
    _analyzer,
    _tokens,
    profile_document,  # noqa: F401
)
from recommender.taxonomy import split_tags


class ProfileModel(ProfileVectors, BaseEstimator):
    """TF-IDF profiles and cosine similarity.

    The estimator that learns the vocabulary and IDF weights; vectors and
    similarities are :class:`~recommender.profile_vectors.ProfileVectors`'.

    Parameters
    ----------
    use_bio : bool, default True
        Include bio words, not only tags.
    min_df : int, default 1
    """

    def __init__(self, *, use_bio: bool = True, min_df: int = 1):
        self.use_bio = use_bio
        self.min_df = min_df

    def fit(self, people: pd.DataFrame) -> "ProfileModel":
        """Learn the vocabulary and IDF weights from ``people`` (one row each).

        Gives what ``TfidfVectorizer(analyzer=_analyzer)`` gives on the
        :func:`profile_document` of every row, but tokenises each distinct
        field value, and each distinct bio word, once (:func:`_term_counts`).
        """
        if len(people) == 0:
            raise ValueError("Found array with 0 sample(s): a profile model needs at least one person")
        counts, vocab, blank = _term_counts(people, self.use_bio)
        n = len(people)
        if blank:  # no document has any text: one placeholder document keeps the vocabulary non-empty
            vocab = _analyzer("w:placeholder")
            counts = sparse.csr_matrix((np.ones(1), np.zeros(1, np.int32), np.r_[np.zeros(n + 1, np.int32), 1]),
                                       shape=(n + 1, 1))
        elif not vocab:
            raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
        n_doc = counts.shape[0]
        low = self.min_df if isinstance(self.min_df, (int, np.integer)) else self.min_df * n_doc
        df = np.bincount(counts.indices, minlength=len(vocab))
        if (df < low).any():
            keep = np.flatnonzero(df >= low)
            if not len(keep):
                raise ValueError("After pruning, no terms remain. Try a lower min_df or a higher max_df.")
            counts = counts[:, keep].tocsr()
            vocab = [vocab[j] for j in keep]
        tfidf = TfidfTransformer(sublinear_tf=True).fit(counts)
        # what TfidfVectorizer(analyzer=_analyzer, sublinear_tf=True).fit learns, through public parts only:
        # counts over the fixed vocabulary, then the fitted TF-IDF weights
        self.vocabulary_ = {t: j for j, t in enumerate(vocab)}
        self.terms_ = np.array(vocab, dtype=object)
        self.idf_ = np.asarray(tfidf.idf_, dtype=np.float64)
        matrix = sparse.csr_matrix(tfidf.transform(counts, copy=False))
        self.matrix_ = matrix[:n] if blank else matrix
        self.ids_ = people["id"].to_numpy()
        return self


# ---------------------------------------------------------------------------
# Term counts of many profiles at once
# ---------------------------------------------------------------------------

_BIO_CHUNK = 1 << 13  # distinct bios tokenised at a time (small chunks: faster, less heap)


def _codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize`` of a column (missing values -1), uniques as objects; unhashable values each get their own code."""
    try:
        codes, uniq = pd.factorize(values, use_na_sentinel=True)
        return codes, np.asarray(uniq, dtype=object)
    except TypeError:  # lists of tags: no sharing, same tokens
        vals = values.to_numpy(dtype=object)
        missing = np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in vals], dtype=bool)
        return np.where(missing, -1, np.arange(len(vals))), vals


def _column(people: pd.DataFrame, col: str) -> pd.Series:
    if col not in people.columns:
        return pd.Series(np.full(len(people), None, dtype=object))
    return people[col].reset_index(drop=True)


def _bio_codes(people: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each row's bio text as in :func:`profile_document` (``bio or description``, if non-blank text).

    Returns (code per row, -1 for none; the distinct texts), deciding per distinct value.
    """
    bio, desc = _column(people, "bio"), _column(people, "description")
    bcodes, buniq = _codes(bio)
    dcodes, duniq = _codes(desc)
    nb = len(buniq)
    truthy = np.r_[np.array([_truthy(u) for u in buniq], dtype=bool), False]
    use_desc = ~truthy[np.where(bcodes >= 0, bcodes, nb)]
    na = np.flatnonzero(bcodes < 0)
    if len(na):  # missing values: None and "" take the description, NaN does not
        use_desc[na] = ~np.frompyfunc(_truthy, 1, 1)(bio.iloc[na].to_numpy(dtype=object)).astype(bool)

    def texts(uniq):
        return np.r_[np.array([isinstance(u, str) and bool(u.strip()) for u in uniq], dtype=bool), False]

    tb, td = texts(buniq), texts(duniq)
    from_bio = np.where(tb[np.where(bcodes >= 0, bcodes, nb)], bcodes, -1)
    from_desc = np.where(td[np.where(dcodes >= 0, dcodes, len(duniq))], dcodes + nb, -1)
    code = np.where(use_desc, from_desc, from_bio)
    used = np.zeros(nb + len(duniq), dtype=bool)
    used[code[code >= 0]] = True
    remap = np.r_[np.cumsum(used) - 1, -1]
    return remap[np.where(code >= 0, code, len(used))], np.r_[buniq, duniq][used]


def _truthy(v) -> bool:
    try:
        return bool(v)
    except (TypeError, ValueError):  # pd.NA, arrays: not usable text
        return False


class _Terms:
    """Term strings to provisional column ids (in order of first sight)."""

    def __init__(self):
        self.ids: dict[str, int] = {}

    def id(self, term: str) -> int:
        j = self.ids.get(term)
        if j is None:
            j = self.ids[term] = len(self.ids)
        return j


def _field_matrix(uniques, field: str, terms: _Terms) -> tuple[list, list, np.ndarray]:
    """Term counts of each distinct value of one tag field, as COO parts, and which values give any text."""
    prefix, weight = FIELD_PREFIX[field], FIELD_WEIGHTS[field]
    rows, cols, text = [], [], np.zeros(len(uniques), dtype=bool)
    for i, val in enumerate(uniques):
        if val is None or (isinstance(val, float) and np.isnan(val)):
            continue
        doc = " ".join(_tokens(split_tags(val) if isinstance(val, str) else list(val), prefix, weight))
        text[i] = bool(doc.strip())
        for tok in _analyzer(doc):
            rows.append(i)
            cols.append(terms.id(tok))
    return rows, cols, text


def _bio_matrix(bios: list[str], terms: _Terms) -> tuple[np.ndarray, np.ndarray]:
    """Term counts of distinct bios as COO (row, col) parts: each distinct whitespace token analysed once.

    ``_analyzer`` splits on whitespace and maps each token to at most one term,
    so a bio's terms are those of its tokens.
    """
    memo: dict[str, int] = {}

    def term_of(tok: str) -> int:
        j = memo.get(tok)
        if j is None:
            out = _analyzer(tok)
            j = memo[tok] = terms.id(out[0]) if out else -1
        return j

    rows, cols = [], []
    for s in range(0, len(bios), _BIO_CHUNK):
        split = [b.split() for b in bios[s:s + _BIO_CHUNK]]
        lens = np.fromiter(map(len, split), dtype=np.int64, count=len(split))
        flat = np.empty(int(lens.sum()), dtype=object)
        flat[:] = list(chain.from_iterable(split))
        del split
        codes, uniq = pd.factorize(flat)
        del flat
        ids = np.fromiter((term_of(t) for t in uniq), dtype=np.int64, count=len(uniq))
        col = ids[codes]
        row = np.repeat(np.arange(s, s + len(lens), dtype=np.int64), lens)
        ok = col >= 0
        rows.append(row[ok])
        cols.append(col[ok])
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(rows), np.concatenate(cols)


def _term_counts(people: pd.DataFrame, use_bio: bool = True) -> tuple[sparse.csr_matrix, list[str], bool]:
    """The term counts of every row's :func:`profile_document` under :func:`_analyzer`.

    Returns ``(counts, vocab, blank)``: counts (n, len(vocab)) with columns in
    sorted term order (as TfidfVectorizer sorts them), and whether every
    document is blank. The tokens of a document are the tokens of its fields
    and of its bio, so each distinct field value and bio is analysed once,
    and a row's counts are the sum of its values' (one sparse product:
    row-to-value indicators times value-to-term counts).
    """
    n = len(people)
    terms = _Terms()
    rows, cols, codes, off = [], [], [], 0
    has_text = np.zeros(n, dtype=bool)
    for field in FIELD_WEIGHTS:
        c, uniq = _codes(_column(people, field))
        r, t, text = _field_matrix(uniq, field, terms)
        rows.append(np.asarray(r, dtype=np.int64) + off)
        cols.append(np.asarray(t, dtype=np.int64))
        codes.append(np.where(c >= 0, c + off, -1))
        off += len(uniq)
        has_text |= np.r_[text, False][np.where(c >= 0, c, len(uniq))]
    if use_bio:
        c, uniq = _bio_codes(people)
        r, t = _bio_matrix(list(uniq), terms)
        rows.append(r + off)
        cols.append(t)
        codes.append(np.where(c >= 0, c + off, -1))
        off += len(uniq)
        has_text |= c >= 0
    vocab = sorted(terms.ids)
    rank = np.empty(len(vocab), dtype=np.int64)
    rank[[terms.ids[t] for t in vocab]] = np.arange(len(vocab))
    r, t = np.concatenate(rows), rank[np.concatenate(cols)]
    D = sparse.csr_matrix((np.ones(len(r)), (r, t)), shape=(off, len(vocab)))  # value x term counts
    codes = np.stack(codes, axis=1)
    ok = codes >= 0
    R = sparse.csr_matrix((np.ones(int(ok.sum())), codes[ok], np.r_[0, np.cumsum(ok.sum(axis=1))]),
                          shape=(n, off))  # row x value
    X = sparse.csr_matrix(R @ D)
    X.sort_indices()
    return X, vocab, not has_text.any()
