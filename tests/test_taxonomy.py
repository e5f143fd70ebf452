import pytest
from hypothesis import given, strategies as st

from recommender.errors import DataValidationError
from recommender.taxonomy import KINDS, load_taxonomy, read_taxonomy, slugify, split_tags


@pytest.fixture(scope="module")
def tax():
    return load_taxonomy()


@pytest.mark.parametrize("raw", ["Demand Gen", "demand generation", "demand-gen", "  DEMAND_GEN ", "Lead Generation"])
def test_synonyms_normalise_to_one_tag(tax, raw):
    n = tax.normalize(raw, "specialty")
    assert n.known and n.tag == "demand-gen"


def test_unknown_tag_is_kept_and_suggested(tax):
    n = tax.normalize("demand-genn", "specialty")
    assert not n.known
    assert n.tag == "demand-genn"
    assert n.suggestion == "demand-gen"


def test_normalize_many_dedupes_and_reports(tax):
    tags, unknown = tax.normalize_many("Demand Gen; demand generation | ABM, fundraisng", "specialty")
    assert tags == ["demand-gen", "abm", "fundraisng"]
    assert [u.suggestion for u in unknown] == ["fundraising"]


def test_kinds_are_separate_namespaces(tax):
    assert tax.normalize("SaaS", "industry").tag == "saas"
    assert tax.normalize("5-50M", "size_band").tag == "5-50m"
    assert tax.normalize("CFO", "function").tag == "finance"
    assert not tax.normalize("saas", "specialty").known


def test_parents(tax):
    assert tax.function_of("demand-gen") == "marketing"
    assert tax.parent("fintech", "industry") == "financial-services"
    assert "fp-and-a" in tax.children("finance", "specialty")
    # every specialty belongs to a known function
    for t in tax.tags("specialty"):
        assert tax.is_known(tax.function_of(t), "function"), t


def test_unknown_kind_is_a_clear_error(tax):
    with pytest.raises(ValueError, match="expected one of"):
        tax.normalize("x", "colour")


def test_bad_taxonomy_file_names_line(tmp_path):
    p = tmp_path / "tax.csv"
    p.write_text("tag,kind,parent,synonyms\nfoo,specialty,,\nbar,colour,,\n")
    with pytest.raises(DataValidationError) as e:
        read_taxonomy(p)
    assert e.value.problems[0].line == 3 and e.value.problems[0].field == "kind"


@given(st.text(max_size=60), st.sampled_from(KINDS))
def test_normalize_never_crashes_and_is_idempotent(text, kind):
    tax = load_taxonomy()
    n = tax.normalize(text, kind)
    assert n.tag == slugify(n.tag) or n.known
    again = tax.normalize(n.tag, kind)
    assert again.tag == n.tag


@given(st.lists(st.text(alphabet="abc ;|,", max_size=8), max_size=5))
def test_split_tags_has_no_empty_parts(parts):
    for p in split_tags(";".join(parts)):
        assert p and p == p.strip()


# -- a vocabulary worth its name (issue 15) -------------------------------------------------


@pytest.mark.parametrize("function", ["marketing", "finance", "operations", "people", "sales", "product", "technology"])
def test_every_function_has_a_real_vocabulary(tax, function):
    specs = tax.children(function, "specialty")
    assert len(specs) >= 10, specs
    for t in specs:
        e = tax.entries[("specialty", t)]
        assert e.label and e.synonyms, t


@pytest.mark.parametrize("raw, tag", [
    ("SEO", "seo"), ("public relations", "pr-communications"), ("PR", "pr-communications"),
    ("go-to-market", "gtm-strategy"), ("growth", "growth-marketing"), ("community building", "events-community"),
    ("co-marketing", "partner-marketing"), ("content", "content-marketing"), ("product marketing", "product-marketing"),
    ("retention", "lifecycle-marketing"), ("bookkeeping", "accounting-close"), ("13-week cash flow", "cash-flow"),
    ("OKRs", "strategic-planning"), ("HRIS", "hr-operations"), ("MEDDIC", "sales-process"), ("PLG", "product-led-growth"),
    ("UX", "ux-design"), ("SOC 2", "security"), ("GenAI", "ai-strategy"), ("DevOps", "devops")])
def test_what_fractionals_sell_is_known(tax, raw, tag):
    assert tax.normalize(raw, "specialty").tag == tag


@pytest.mark.parametrize("tag, kind, text", [("demand-gen", "specialty", "demand generation"),
                                             ("5-50m", "size_band", "$5-50M"), ("saas", "industry", "B2B SaaS"),
                                             ("fp-and-a", "specialty", "FP&A"), ("us-west", "region", "US West")])
def test_display_labels(tax, tag, kind, text):
    assert tax.label(tag, kind) == text
    assert tax.label(tag) == text


def test_unknown_tags_read_as_words(tax):
    assert tax.label("no-such-tag") == "no such tag"


def test_corrections(tax):
    c = tax.correct("demand genn", "specialty")
    assert (c.tag, c.corrected) == ("demand-gen", True)
    c = tax.correct("ops", "specialty")
    assert c.tag is None and c.ambiguous and len(c.choices) >= 2
    c = tax.correct("blockchain", "specialty")
    assert c.tag is None and not c.ambiguous
    assert tax.correct("SEO", "specialty") == tax.correct("SEO", "specialty")  # deterministic


def test_no_synonym_names_two_tags_of_one_kind(tax):
    import csv

    from recommender.taxonomy import TAXONOMY_PATH

    seen: dict[tuple[str, str], str] = {}
    with open(TAXONOMY_PATH, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            for s in [row["tag"]] + [x for x in row["synonyms"].split("|") if x]:
                key = (row["kind"], slugify(s))
                if key in seen and seen[key] != row["tag"] and key != ("industry", "healthcare"):
                    raise AssertionError(f"{s!r} names both {seen[key]!r} and {row['tag']!r}")
                seen.setdefault(key, row["tag"])
