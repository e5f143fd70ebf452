"""Words a person can send and picks a person can trust (issue 15), checked on the whole sample.

* Every draft from ``meet`` (every person, every group) and from ``refer``
  (every opportunity) reads like a message: no taxonomy slug, no score or
  other number from the ranking, none of the words "fit", "covers", "picks".
* For every opportunity, ``refer`` returns picks that each cover a need
  (a partial fit, listed for some needs, says which it lacks), or says that nobody in reach
  does.
"""

from __future__ import annotations

import re

import pytest

from recommender.meet.text import draft_note
from recommender.network import load_network
from recommender.refer.text import explanation_text, format_routing, introduction_message, routing_to_dict
from recommender.store.db import Store
from recommender.taxonomy import load_taxonomy

RANKING_WORDS = re.compile(r"\b(fit|fits|covers|picks|score|scores|similarity|trust|ranked|relevance)\b", re.I)
NUMBER = re.compile(r"(?<![\w$])\d+\.\d+\b")  # 0.59, 0.36: ranking figures ($5-50M and 13-week are fine)


def _patterns():
    tax = load_taxonomy()
    labels = sorted({tax.label(t, k) for (k, t) in tax.entries}, key=len, reverse=True)
    slugs = sorted(tax.slugs(), key=len, reverse=True)
    return (re.compile("|".join(re.escape(x) for x in labels)),
            re.compile(r"(?<![\w-])(" + "|".join(re.escape(x) for x in slugs) + r")(?![\w-])"))


LABELS, SLUGS = _patterns()


def problems_in(text: str) -> list[str]:
    """What makes ``text`` unsendable: slugs, ranking words, ranking figures."""
    rest = LABELS.sub(" ", text)  # a label may hold a slug ("brand strategy"): take the labels out first
    out = [f"slug {m.group(1)!r}" for m in SLUGS.finditer(rest)]
    out += [f"word {m.group(0)!r}" for m in RANKING_WORDS.finditer(text)]
    out += [f"number {m.group(0)!r}" for m in NUMBER.finditer(text)]
    return out


def test_the_scan_catches_what_it_should():
    assert problems_in("Hi Ann, a client (5-50m saas) needs demand-gen and abm: partial fit")
    assert problems_in("score 0.59")
    assert not problems_in("Hi Ann, a $5-50M B2B SaaS client needs demand generation, ABM and brand strategy.")


@pytest.fixture(scope="module")
def sample(warm_sample_db, sample_router):
    from recommender.model_cache import meet_model

    with Store(warm_sample_db) as s:  # the sample with its model cached: loaded, not fitted again
        net = load_network(s)
        model = meet_model(s, network=net)
    router = sample_router  # the session's router, fitted on the same sample (read-only)
    routings = {o.id: router.route(o.brought_by, o.id) for o in net.opportunities.itertuples(index=False)}
    return net, model, routings


def test_no_meet_draft_has_a_slug_a_score_or_ranking_words(sample):
    net, model, _ = sample
    bad, n = [], 0
    every = model.recommend_many(list(net.people["id"]), k=5)  # every person, as one block
    for pid, recs in every.items():
        me = model.person(pid)
        for rec in recs:
            them = model.person(rec.candidate_id)
            notes = [draft_note(rec, me, them)]
            if rec.introducer_name:  # and the note once the introduction is logged
                notes.append(draft_note(rec, me, them, introduced_by=rec.introducer_name))
            for note in notes:
                n += 1
                found = problems_in(note)
                if found:
                    bad.append((pid, rec.candidate_id, found, note))
                assert "suggested we talk" not in note
    assert n > 1000
    assert not bad, bad[:5]


def test_no_refer_draft_has_a_slug_a_score_or_ranking_words(sample):
    net, _, routings = sample
    bad, n = [], 0
    for opp in net.opportunities.itertuples(index=False):
        routing = routings[opp.id]
        msgs = routing_to_dict(routing)["messages"]
        if msgs is None:
            continue
        for text in [m["message"] for m in msgs["picks"]] + [msgs["client"]]:
            n += 1
            found = problems_in(text)
            if found:
                bad.append((opp.id, found, text))
    assert n > 300
    assert not bad, bad[:5]


def test_every_pick_covers_a_need_or_the_answer_says_nobody_does(sample):
    net, _, routings = sample
    nobody = 0
    for opp in net.opportunities.itertuples(index=False):
        routing = routings[opp.id]
        if not routing.picks:
            nobody += 1
            assert routing.explanation["code"] in ("nobody_covers", "no_peer_in_reach"), opp.id
            assert re.match(r"(Nobody|No eligible fractional) within 2 hops", explanation_text(routing))
            assert introduction_message(routing) is None
            continue
        for p in routing.picks:  # a pick is listed for at least one need; one who lacks some says so
            assert p.covers, (opp.id, p.person_id)
            if len(p.covers) < len(routing.request.needs):
                assert any(r.code == "not_covered" for r in p.reasons), (opp.id, p.person_id)
        if any(len(p.covers) < len(routing.request.needs) for p in routing.picks):
            assert "partial fit: not listed for" in format_routing(routing)
        for p in routing.nearby:  # people who only share the function are never picks
            assert not p.covers and p.reasons[0].code == "partial_fit"
        for need in routing.uncovered_needs:  # an uncovered need is said, with where it could be found
            assert need in routing.reach["nobody_listed_for"] or any(need not in p.covers for p in routing.picks)
    assert nobody < len(net.opportunities)


def test_o0007_from_someone_who_did_not_bring_it(warm_sample_db, capsys):
    """The issue's case: enterprise sales from p0042 (not theirs, closed): refused, then answered honestly."""
    from recommender.cli import main

    sample_db = warm_sample_db  # its router cached: loaded (read-only use)

    assert main(["refer", "--from", "p0042", "--opportunity", "o0007", "--db", str(sample_db)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "closed" in err and "brought by" in err and "--anyway" in err
    assert main(["refer", "--from", "p0042", "--opportunity", "o0007", "--anyway", "--db", str(sample_db)]) == 0
    out = capsys.readouterr().out
    assert "Nobody within 2 hops of p0042 covers enterprise sales" in out and "--everyone" in out
    assert "Draft notes" not in out


def test_needs_corrections_and_refusals_on_the_cli(warm_sample_db, capsys):
    sample_db = warm_sample_db  # its router cached: loaded (read-only use)
    from recommender.cli import main

    assert main(["refer", "--from", "p0042", "--needs", "demand genn, seo", "--db", str(sample_db)]) == 0
    out = capsys.readouterr().out
    assert "read 'demand genn' as demand generation" in out
    assert main(["refer", "--from", "p0042", "--needs", "blockchain, quantum", "--db", str(sample_db)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not known specialties" in err
    assert main(["refer", "--from", "p0042", "--needs", "sop", "--db", str(sample_db)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "process improvement" in err and "supply chain" in err


def test_logging_a_referral_on_a_closed_opportunity_needs_anyway(writable_db, capsys):
    from recommender.cli import main

    db = str(writable_db)
    with Store(writable_db) as s:
        before = s.counts()["referrals"]
    assert main(["referral", "log", "--opportunity", "o0007", "--to", "p0113", "--db", db]) == 2
    assert "closed" in capsys.readouterr().err
    with Store(writable_db) as s:
        assert s.counts()["referrals"] == before
    assert main(["referral", "log", "--opportunity", "o0007", "--to", "p0113", "--anyway", "--db", db]) == 0


def test_track_records_from_no_data_say_so(sample):
    net, _, routings = sample
    texts = []
    for routing in routings.values():
        texts += routing_to_dict(routing)["picks"]
    reasons = [r for p in texts for r in p["reasons"] if "referral" in r]
    assert any(r == "no track record yet (no referrals received)" for r in reasons)
    assert not any("smoothed" in r or "%" in r for r in reasons)
    assert not any(re.search(r"\b1 referrals\b", r) for r in reasons)
