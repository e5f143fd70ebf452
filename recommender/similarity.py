"""The profile similarity model: TF-IDF over normalised tags and bios.

Each person's profile is a bag of tokens: their canonical specialty tags
(weighted most), industries, ICP size bands, regions and function as
prefixed tokens (``spec:demand-gen``, ``ind:saas``), and the words of their
bio. scikit-learn's TfidfVectorizer turns profiles into L2-normalised sparse
rows, so cosine similarity is a sparse dot product, and NearestNeighbors finds
the most similar people.

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

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.neighbors import NearestNeighbors

from recommender.errors import NotFittedError, UnknownIdError
from recommender.taxonomy import split_tags

#: How many times a field's tokens are repeated in a profile (its weight).
FIELD_WEIGHTS = {"specialties": 3, "industries": 2, "icp_sizes": 1, "regions": 1, "function": 1}
FIELD_PREFIX = {"specialties": "spec", "industries": "ind", "icp_sizes": "size", "regions": "reg", "function": "fn"}


def _tokens(tags, prefix: str, weight: int) -> list[str]:
    return [f"{prefix}:{t}" for t in tags for _ in range(weight)]


def profile_document(row: dict, use_bio: bool = True) -> str:
    """One person (or an opportunity's needs) as a document of tag tokens and bio words."""
    toks: list[str] = []
    for field, weight in FIELD_WEIGHTS.items():
        val = row.get(field)
        if val is None or (isinstance(val, float) and np.isnan(val)):
            continue
        toks += _tokens(split_tags(val) if isinstance(val, str) else list(val), FIELD_PREFIX[field], weight)
    text = " ".join(toks)
    if use_bio:
        bio = row.get("bio") or row.get("description")
        if isinstance(bio, str) and bio.strip():
            text += " " + bio
    return text


def _analyzer(doc: str) -> list[str]:
    out = []
    for tok in doc.split():
        if ":" in tok and tok.split(":", 1)[0] in FIELD_PREFIX.values():
            out.append(tok)
        else:
            w = "".join(ch for ch in tok.lower() if ch.isalnum() or ch == "-").strip("-")
            if len(w) > 2 and w not in _STOP:
                out.append("w:" + w)
    return out


_STOP = frozenset("the and for with from that this into our are was were you your who has have had will can not but all any "
                  "helping helps help work working companies company".split())


class ProfileModel:
    """TF-IDF profiles and cosine nearest neighbours.

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
        """Learn the vocabulary and IDF weights from ``people`` (one row each)."""
        docs = [profile_document(r, self.use_bio) for r in people.to_dict("records")]
        self.vectorizer_ = TfidfVectorizer(analyzer=_analyzer, min_df=self.min_df, sublinear_tf=True)
        if not any(d.strip() for d in docs):
            docs = docs + ["w:placeholder"]
            self.matrix_ = self.vectorizer_.fit_transform(docs)[:-1].tocsr()
        else:
            self.matrix_ = self.vectorizer_.fit_transform(docs).tocsr()
        self.ids_ = people["id"].to_numpy()
        self.position_ = {pid: i for i, pid in enumerate(self.ids_)}
        self.nn_ = NearestNeighbors(metric="cosine", algorithm="brute").fit(self.matrix_)
        return self

    def _check(self) -> None:
        if not hasattr(self, "matrix_"):
            raise NotFittedError("ProfileModel is not fitted; call fit(people) first")

    def vector(self, person_id: str) -> sparse.csr_matrix:
        """The (1, n_terms) TF-IDF row of one person."""
        self._check()
        i = self.position_.get(person_id)
        if i is None:
            raise UnknownIdError("person", person_id)
        return self.matrix_[i]

    def transform(self, records: list[dict]) -> sparse.csr_matrix:
        """Profiles of new records (people, or opportunities' needs), shape (n, n_terms).

        Unknown tokens are ignored, as TF-IDF does for unseen words.
        """
        self._check()
        return self.vectorizer_.transform([profile_document(r, self.use_bio) for r in records])

    def similarity_to(self, query: sparse.csr_matrix) -> np.ndarray:
        """Cosine similarity of every person to each query row, shape (n_queries, n_people)."""
        self._check()
        return np.asarray((query @ self.matrix_.T).todense())

    def pair_similarity(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Cosine similarity of person ``rows[i]`` and ``cols[i]`` (positions), shape (m,)."""
        self._check()
        a = self.matrix_[rows]
        b = self.matrix_[cols]
        return np.asarray(a.multiply(b).sum(axis=1)).ravel()

    def most_similar(self, person_id: str, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` people most similar to ``person_id`` (excluding them), with cosine similarity."""
        vec = self.vector(person_id)
        k_eff = min(k + 1, len(self.ids_))
        dist, idx = self.nn_.kneighbors(vec, n_neighbors=k_eff)
        out = [(self.ids_[j], float(1 - d)) for d, j in zip(dist[0], idx[0]) if self.ids_[j] != person_id]
        return out[:k]
