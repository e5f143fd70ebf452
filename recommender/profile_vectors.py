"""Profiles as TF-IDF vectors at answer time: the documents, the fitted vocabulary and IDF weights, in numpy.

Each person's profile is a bag of tokens: their canonical specialty tags
(weighted most), industries, ICP size bands, regions and function as
prefixed tokens (``spec:demand-gen``, ``ind:saas``), and the words of their
bio (:func:`profile_document`, :func:`_analyzer`).

:class:`ProfileVectors` is the answering half of
:class:`~recommender.similarity.ProfileModel` (which learns the vocabulary and
the IDF weights with scikit-learn): it holds the vocabulary, the ``idf_``
vector and the people's L2-normalised rows, and turns new records into rows
with scikit-learn's TF-IDF arithmetic (sublinear counts ``1 + log(tf)``,
times ``idf``, divided by the row's L2 norm summed in index order), so a
loaded model's vectors equal a fitted one's to the last bit. It follows the
persistence contract of :mod:`recommender.meet.persistence` and imports
nothing from scikit-learn or pandas.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import sparse

from recommender.errors import NotFittedError, UnknownIdError
from recommender.meet.persistence import params_of, set_params_of
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


class ProfileVectors:
    """TF-IDF rows of the fitted people and of new records; cosine similarity (see the module docstring)."""

    @property
    def position_(self) -> dict:
        """Person id -> row of ``matrix_`` (built when first needed)."""
        if "position_" not in self.__dict__:
            self.__dict__["position_"] = {pid: i for i, pid in enumerate(self.ids_)}
        return self.__dict__["position_"]

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

    def counts(self, records: list[dict]) -> sparse.csr_matrix:
        """Term counts of the records' profile documents over the fitted vocabulary (float, sorted indices)."""
        self._check()
        vocab = self.vocabulary_
        indptr, indices, data = [0], [], []
        for r in records:
            seen: dict[int, int] = {}
            for tok in _analyzer(profile_document(r, self.use_bio)):
                j = vocab.get(tok)
                if j is not None:  # unknown tokens are ignored, as TF-IDF does for unseen words
                    seen[j] = seen.get(j, 0) + 1
            for j in sorted(seen):
                indices.append(j)
                data.append(float(seen[j]))
            indptr.append(len(indices))
        return sparse.csr_matrix((np.asarray(data, dtype=np.float64), np.asarray(indices, dtype=np.int32),
                                  np.asarray(indptr, dtype=np.int32)), shape=(len(records), len(vocab)))

    def transform(self, records: list[dict]) -> sparse.csr_matrix:
        """Profiles of new records (people, or opportunities' needs), shape (n, n_terms)."""
        X = self.counts(records)
        np.log(X.data, X.data)  # sublinear term frequency, as the fit's TfidfTransformer(sublinear_tf=True)
        X.data += 1.0
        X.data *= self.idf_[X.indices]
        data, indptr = X.data, X.indptr
        for i in range(X.shape[0]):  # L2 norm summed in index order (scikit-learn's sparse row normalisation)
            lo, hi = int(indptr[i]), int(indptr[i + 1])
            total = 0.0
            for v in data[lo:hi].tolist():
                total += v * v
            if total != 0.0:
                data[lo:hi] /= math.sqrt(total)
        return X

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
        sim = self.similarity_to(self.vector(person_id))[0]
        order = np.lexsort((np.arange(len(sim)), -sim))  # most similar first, then by position
        return [(self.ids_[j], float(sim[j])) for j in order if self.ids_[j] != person_id][:k]

    # -- persistence (recommender.meet.persistence) -------------------------------------------------
    def to_state(self) -> dict:
        """The fitted state: the parameters, the terms (in column order), ``idf_``, ``matrix_`` and ``ids_``."""
        self._check()
        return {"params": params_of(self),
                "terms": [str(t) for t in self.terms_], "idf": self.idf_, "matrix": self.matrix_,
                "ids": np.asarray(self.ids_, dtype=object)}

    @classmethod
    def from_state(cls, state: dict) -> "ProfileVectors":
        obj = cls.__new__(cls)
        set_params_of(obj, state["params"])
        terms = list(state["terms"])
        obj.terms_ = np.array(terms, dtype=object)
        obj.vocabulary_ = {t: j for j, t in enumerate(terms)}
        obj.idf_ = state["idf"]
        obj.matrix_ = state["matrix"]
        obj.ids_ = state["ids"]
        return obj
