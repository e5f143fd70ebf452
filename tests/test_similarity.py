"""ProfileModel's fast term counting equals the per-document TfidfVectorizer it replaced."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from recommender.similarity import ProfileModel, _analyzer, profile_document


def _reference(people: pd.DataFrame, use_bio: bool = True, min_df=1):
    """The old fit: one document per row through a Python analyzer (slow, obviously right)."""
    docs = [profile_document(r, use_bio) for r in people.to_dict("records")]
    vec = TfidfVectorizer(analyzer=_analyzer, min_df=min_df, sublinear_tf=True)
    if not any(d.strip() for d in docs):
        return vec, vec.fit_transform(docs + ["w:placeholder"])[:-1].tocsr()
    return vec, vec.fit_transform(docs).tocsr()


def _same(people: pd.DataFrame, use_bio: bool = True, min_df=1) -> ProfileModel:
    vec, ref = _reference(people, use_bio, min_df)
    model = ProfileModel(use_bio=use_bio, min_df=min_df).fit(people)
    assert model.vocabulary_ == vec.vocabulary_
    assert list(model.terms_) == list(vec.get_feature_names_out())
    np.testing.assert_allclose(model.idf_, vec.idf_, rtol=0, atol=1e-12)
    assert model.matrix_.shape == ref.shape
    assert abs(model.matrix_ - ref).max() <= 1e-12 if ref.nnz else model.matrix_.nnz == 0
    docs = [profile_document(r, use_bio) for r in people.to_dict("records")]
    if ref.nnz:  # new documents are transformed as the vectoriser would
        assert abs(model.transform(people.to_dict("records")) - vec.transform(docs)).max() <= 1e-12
    return model


@pytest.fixture(scope="module")
def sample_people(sample_db):
    from recommender.network import load_network
    from recommender.store.db import Store

    with Store(sample_db) as store:
        return load_network(store).people


def test_sample_matches_reference(sample_people):
    model = _same(sample_people)
    recs = [{"specialties": ["demand-gen", "abm"], "industries": "saas", "description": "Need a CMO for SaaS GTM"},
            {"description": "spec:abm Growth-marketing --- x"}, {}]
    vec, _ = _reference(sample_people)
    assert abs(model.transform(recs) - vec.transform([profile_document(r) for r in recs])).max() <= 1e-12


@pytest.mark.parametrize("n,seed", [(400, 42), (3000, 7)])
def test_generated_matches_reference(n, seed):
    from recommender.demo import generate_network

    people = generate_network(n, seed=seed)["people"]
    _same(people)
    _same(people, use_bio=False)
    _same(people, min_df=2)


def test_awkward_values_match_reference():
    people = pd.DataFrame({
        "id": list("abcdefgh"),
        "specialties": ["demand gen;ABM", None, "", "x|y,z", np.nan, "seo; seo", "a:b", "Ünïcode;fn:odd"],
        "industries": [np.nan, "saas", "saas", None, "fin tech", "", "saas;saas", "x"],
        "function": ["marketing", None, "sales", "", "marketing", "finance", None, "Marketing"],
        "bio": ["The CMO, helping SaaS -- companies: spec:abm grow!", "", None, np.nan, "  ",
                "Ünïcode wörds_and under_score naïve---", "fn:Sales ind:x w:odd",
                "a\u00a0non-breaking\tspace\nnew-line éé"],
        "description": ["desc used when bio is falsy", "used: bio is empty", "used: bio is None",
                        "not used: NaN is truthy", "x", "y", "z", "w"],
    })
    _same(people)
    _same(people, use_bio=False)


def test_tags_only_match_reference():
    people = pd.DataFrame({"id": ["a", "b", "c"], "specialties": ["demand-gen;abm", "demand-gen", "fundraising"],
                           "industries": ["saas", "saas", "fintech"]})
    _same(people)
    _same(people.assign(description=["x-ray vision", None, ""]))


def test_blank_documents_match_reference():
    people = pd.DataFrame({"id": ["a", "b"], "specialties": [None, ""], "bio": [None, "   "]})
    model = _same(people)
    assert model.matrix_.nnz == 0
    empty = pd.DataFrame({"id": pd.Series([], dtype=object)})
    with pytest.raises(ValueError, match="0 sample"):  # a profile model needs a person, as before
        ProfileModel().fit(empty)


def test_stop_words_only_is_an_error_as_before():
    people = pd.DataFrame({"id": ["a"], "bio": ["the and of"]})
    with pytest.raises(ValueError, match="empty vocabulary"):
        _reference(people)
    with pytest.raises(ValueError, match="empty vocabulary"):
        ProfileModel().fit(people)


def test_bios_in_several_chunks_match_reference(monkeypatch):
    import recommender.similarity as similarity
    from recommender.demo import generate_network

    monkeypatch.setattr(similarity, "_BIO_CHUNK", 7)
    _same(generate_network(300, seed=5)["people"])
