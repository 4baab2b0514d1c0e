"""Contracts of the pure rules in sim/rules.py and the team rules in sim/teams.py."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import rules, teams
from sim.state import HEROIC, HIERARCHICAL

FAST = settings(max_examples=25, deadline=None, derandomize=True)

unit = st.floats(0.0, 1.0, allow_nan=False)
positive_unit = st.floats(1e-6, 1.0, allow_nan=False)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def skills(draw, n: int, k: int) -> np.ndarray:
    return np.array([[draw(unit) for _ in range(k)] for _ in range(n)], dtype=np.float64)


@st.composite
def requirement(draw, k: int = 4) -> np.ndarray:
    """A requirement: non-negative shares over K domains that sum to 1, at least one non-zero."""
    raw = np.array([draw(st.floats(0.0, 1.0)) for _ in range(k)])
    if raw.sum() <= 1e-9:
        raw[draw(st.integers(0, k - 1))] = 1.0
    return raw / raw.sum()


# ----- stepping up ---------------------------------------------------------------------------

def test_zero_energy_gives_claim_score_zero():
    assert rules.claim_score(0.8, 0.7, 0.0, 0.6, 0.25, 0.25, 0.25, 0.25) == 0.0


@pytest.mark.parametrize("gain,threshold", [(20.0, 0.5), (20.0, 0.3), (50.0, 0.5)])
def test_zero_score_claim_probability_is_autonomy_times_sigmoid_of_minus_gain_threshold(gain, threshold):
    autonomy = 0.9
    p = rules.claim_probability(autonomy, 0.0, gain, threshold)
    assert p == pytest.approx(autonomy * sigmoid(-gain * threshold), rel=1e-12)
    assert p < 3e-3  # effectively never claimed


@pytest.mark.parametrize("missing", range(4))
def test_any_missing_condition_zeroes_the_claim_score(missing):
    values = [0.8, 0.7, 0.9, 0.6]
    values[missing] = 0.0
    assert rules.claim_score(*values, 0.25, 0.25, 0.25, 0.25) == 0.0


@FAST
@given(score=unit, gain=st.floats(0.0, 1000.0), threshold=unit)
def test_zero_autonomy_gives_claim_probability_exactly_zero(score, gain, threshold):
    assert rules.claim_probability(0.0, score, gain, threshold) == 0.0


def test_claim_score_is_the_weighted_geometric_mean_known_value():
    b, f, e, s = 0.5, 0.8, 0.9, 0.4
    w = (0.1, 0.2, 0.3, 0.4)
    expected = b**0.1 * f**0.2 * e**0.3 * s**0.4
    assert rules.claim_score(b, f, e, s, *w) == pytest.approx(expected, rel=1e-12)
    # values one can check by hand
    assert rules.claim_score(0.0625, 1.0, 1.0, 1.0, 0.25, 0.25, 0.25, 0.25) == pytest.approx(0.5)
    assert rules.claim_score(0.16, 0.25, 0.9, 0.3, 0.5, 0.5, 0.0, 0.0) == pytest.approx(0.2)
    assert rules.claim_score(0.81, 0.81, 0.81, 0.81, 0.1, 0.2, 0.3, 0.4) == pytest.approx(0.81)


@FAST
@given(b=positive_unit, f=positive_unit, e=positive_unit, s=positive_unit)
def test_claim_score_lies_between_the_smallest_and_largest_condition(b, f, e, s):
    score = rules.claim_score(b, f, e, s, 0.25, 0.25, 0.25, 0.25)
    assert min(b, f, e, s) * (1 - 1e-12) <= score <= max(b, f, e, s) * (1 + 1e-12)
    assert score == pytest.approx((b * f * e * s) ** 0.25, rel=1e-9)


def test_claim_probability_rises_with_score_and_is_half_autonomy_at_threshold():
    a = 0.6
    ps = [rules.claim_probability(a, x, 20.0, 0.5) for x in np.linspace(0, 1, 11)]
    assert all(p2 > p1 for p1, p2 in zip(ps, ps[1:]))
    assert rules.claim_probability(a, 0.5, 20.0, 0.5) == pytest.approx(a / 2)
    assert max(ps) < a


def test_benefit_follows_value_under_full_purpose_and_interest_without_it():
    assert rules.benefit(1.0, 3.0, 1.0, 0.99) == pytest.approx(0.75)
    assert rules.benefit(1.0, 3.0, 1.0, 0.01) == pytest.approx(0.75)
    assert rules.benefit(0.0, 3.0, 1.0, 0.2) == pytest.approx(0.2)


def test_zero_contribution_means_nobody_joins():
    assert rules.join_probability(0.0, 1.0, 1.0, 1.0) == 0.0
    assert rules.join_probability(0.6, 0.5, 1.0, 1.0) == pytest.approx(0.3)
    assert rules.join_probability(0.6, 0.5, 0.0, 1.0) == pytest.approx(0.15)


# ----- coverage and capability ----------------------------------------------------------------

def test_coverage_of_a_team_with_a_perfect_skill_in_every_needed_domain_is_one():
    req = np.array([0.5, 0.0, 0.3, 0.2])
    skill = np.full((3, 4), 0.1)
    skill[0, 0] = 1.0
    skill[1, 2] = 1.0
    skill[2, 3] = 1.0
    members = np.array([0, 1, 2], dtype=np.int64)
    assert teams.coverage(req, members, 3, skill) == pytest.approx(1.0)
    # without the member who covers domain 3, coverage falls short by at least part of its share
    assert teams.coverage(req, members, 2, skill) < 1.0 - 0.2 * 0.8


def test_coverage_of_one_member_is_its_fit():
    req = np.array([0.25, 0.25, 0.5, 0.0])
    skill = np.array([[0.4, 0.9, 0.2, 1.0]])
    assert teams.coverage(req, np.array([0]), 1, skill) == pytest.approx(rules.fit(req, skill[0]))


@FAST
@given(data=st.data(), req=requirement())
def test_adding_members_never_lowers_coverage(data, req):
    n = data.draw(st.integers(1, 6))
    skill = skills(data.draw, n, 4)
    members = np.arange(n, dtype=np.int64)
    values = [teams.coverage(req, members, c, skill) for c in range(n + 1)]
    assert values[0] == 0.0
    assert all(b >= a - 1e-12 for a, b in zip(values, values[1:]))
    assert values[-1] <= 1.0 + 1e-12


@FAST
@given(data=st.data(), req=requirement(), mu=unit)
def test_capability_never_exceeds_coverage(data, req, mu):
    n = data.draw(st.integers(1, 5))
    skill = skills(data.draw, n, 4)
    energy = np.array([data.draw(unit) for _ in range(n)])
    autonomy = np.array([data.draw(unit) for _ in range(n)])
    members = np.arange(n, dtype=np.int64)
    cap = teams.capability(req, members, n, skill, energy, autonomy, mu)
    cov = teams.coverage(req, members, n, skill)
    assert 0.0 <= cap <= cov + 1e-12


def test_capability_equals_coverage_with_full_energy_and_autonomy():
    req = np.array([0.4, 0.6, 0.0, 0.0])
    skill = np.array([[0.7, 0.2, 0.1, 0.1], [0.1, 0.8, 0.3, 0.1]])
    members = np.array([0, 1])
    cap = teams.capability(req, members, 2, skill, np.ones(2), np.ones(2), 0.5)
    assert cap == pytest.approx(teams.coverage(req, members, 2, skill))


# ----- motivation x complexity ---------------------------------------------------------------

def test_effective_complexity_counts_domains_of_an_even_spread():
    assert rules.effective_complexity(np.array([1.0, 0.0, 0.0, 0.0])) == pytest.approx(1.0)
    assert rules.effective_complexity(np.array([0.5, 0.5, 0.0, 0.0])) == pytest.approx(2.0)
    assert rules.effective_complexity(np.full(4, 0.25)) == pytest.approx(4.0)


@FAST
@given(autonomy=unit, mu=unit)
def test_effort_quality_is_one_for_single_domain_work(autonomy, mu):
    assert rules.effort_quality(autonomy, mu, 1.0, 4) == pytest.approx(1.0)


def test_effort_quality_is_lower_for_complex_work_with_controlled_motivation():
    simple = rules.effort_quality(0.2, 0.5, 1.0, 4)
    medium = rules.effort_quality(0.2, 0.5, 2.0, 4)
    broad = rules.effort_quality(0.2, 0.5, 4.0, 4)
    assert simple == 1.0 > medium > broad
    assert broad == pytest.approx(1 - 0.5 * 0.8)
    # autonomous motivation removes the penalty; so does mu = 0
    assert rules.effort_quality(1.0, 0.5, 4.0, 4) == pytest.approx(1.0)
    assert rules.effort_quality(0.2, 0.0, 4.0, 4) == pytest.approx(1.0)


# ----- progress and coordination -------------------------------------------------------------

def test_progress_rate_falls_with_team_size_through_coordination():
    rates = [rules.progress_rate(0.8, 0.9, 0.1, size) for size in range(1, 7)]
    assert all(b < a for a, b in zip(rates, rates[1:]))
    assert rates[0] == pytest.approx((0.5 + 0.5 * 0.8) * 0.9)
    assert rates[2] == pytest.approx(rates[0] / 1.2)
    # without coordination cost, size alone does not slow the team
    flat = [rules.progress_rate(0.8, 0.9, 0.0, size) for size in range(1, 7)]
    assert flat == pytest.approx([flat[0]] * 6)


def test_progress_rate_rises_with_lead_fit():
    assert rules.progress_rate(1.0, 0.5, 0.1, 2) == pytest.approx(2 * rules.progress_rate(0.0, 0.5, 0.1, 2))


@pytest.mark.parametrize("procedures", [0.0, 0.3, 0.9])
def test_self_organised_team_pays_more_coordination_unless_procedures_are_perfect(procedures):
    chosen = rules.coordination_cost(True, 0.1, 0.3, procedures)
    appointed = rules.coordination_cost(False, 0.1, 0.3, procedures)
    assert appointed == pytest.approx(0.1)
    assert chosen == pytest.approx(0.1 + 0.3 * (1 - procedures))
    assert chosen > appointed


def test_perfect_procedures_remove_the_self_organisation_overhead():
    assert rules.coordination_cost(True, 0.1, 0.3, 1.0) == pytest.approx(rules.coordination_cost(False, 0.1, 0.3, 1.0))


# ----- motivation (SDT) ---------------------------------------------------------------------

@FAST
@given(autonomy=unit, needs=unit, trust=unit, zeta=unit)
def test_motivated_moves_autonomy_toward_needs_and_stays_in_unit_interval(autonomy, needs, trust, zeta):
    new = rules.motivated(autonomy, needs, trust, zeta)
    assert 0.0 <= new <= 1.0
    assert abs(new - needs) <= abs(autonomy - needs) + 1e-12
    assert min(autonomy, needs) - 1e-12 <= new <= max(autonomy, needs) + 1e-12


@FAST
@given(autonomy=st.floats(-0.5, 1.5), needs=st.floats(-0.5, 1.5), trust=unit, zeta=st.floats(0, 5))
def test_motivated_never_leaves_unit_interval_even_with_wild_inputs(autonomy, needs, trust, zeta):
    assert 0.0 <= rules.motivated(autonomy, needs, trust, zeta) <= 1.0


def test_internalisation_needs_relatedness_but_loss_does_not():
    assert rules.motivated(0.4, 1.0, 0.0, 0.1) == 0.4  # no trust, no upward move
    assert rules.motivated(0.4, 1.0, 1.0, 0.1) == pytest.approx(0.46)
    assert rules.motivated(0.4, 1.0, 0.5, 0.1) == pytest.approx(0.43)
    assert rules.motivated(0.4, 0.0, 0.0, 0.1) == pytest.approx(0.36)  # downward regardless of trust


# ----- energy, learning, ties ----------------------------------------------------------------

@FAST
@given(energy=unit, rate=unit)
def test_energy_rules_stay_in_unit_interval(energy, rate):
    assert energy <= rules.recovered_energy(energy, rate) <= 1.0
    assert 0.0 <= rules.spent_energy(energy, rate) <= energy


@FAST
@given(skill=unit, req=unit, eta=unit, best=unit, trust=unit)
def test_learning_raises_skill_but_never_past_one_or_the_best_teammate(skill, req, eta, best, trust):
    x = rules.learned_by_doing(skill, req, eta)
    assert skill - 1e-12 <= x <= 1.0 + 1e-12
    y = rules.learned_from_peers(x, best, req, trust, eta)
    assert x - 1e-12 <= y <= max(x, best) + 1e-12
    assert rules.forgotten(skill, eta) <= skill


def test_trust_strengthens_toward_one_and_fades_toward_its_base():
    assert rules.strengthened_trust(0.5, 0.1) == pytest.approx(0.55)
    assert rules.faded_trust(0.9, 0.5, 0.1) == pytest.approx(0.86)
    assert rules.faded_trust(0.1, 0.5, 0.1) == pytest.approx(0.14)


# ----- inequality ----------------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 2, 5, 40])
def test_gini_of_equal_values_is_zero(n):
    assert rules.gini(np.full(n, 3.0)) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("n", [2, 5, 40])
def test_gini_of_one_holder_is_n_minus_one_over_n(n):
    x = np.zeros(n)
    x[n // 2] = 7.0
    assert rules.gini(x) == pytest.approx((n - 1) / n)


def test_gini_of_nothing_is_zero_and_order_does_not_matter():
    assert rules.gini(np.zeros(5)) == 0.0
    assert rules.gini(np.array([])) == 0.0
    assert rules.gini([3, 1, 2]) == pytest.approx(rules.gini([1, 2, 3]))
    assert rules.gini([1, 2, 3]) == pytest.approx(2 / 9)


@FAST
@given(counts=st.lists(st.integers(0, 30), min_size=0, max_size=60))
def test_the_observables_gini_of_counts_matches_the_reference_gini(counts):
    from sim.observe import gini_counts

    x = np.array(counts, dtype=np.int64)
    assert gini_counts(x) == pytest.approx(rules.gini(x), abs=1e-12)
    assert 0.0 <= gini_counts(x) < 1.0


# ----- team helpers ---------------------------------------------------------------------------

def test_best_fit_member_breaks_ties_by_lowest_id():
    req = np.array([1.0, 0.0, 0.0, 0.0])
    skill = np.array([[0.2] * 4, [0.9] * 4, [0.9] * 4, [0.5] * 4])
    assert teams.best_fit_member(req, np.array([3, 2, 1, 0]), 4, skill) == 1
    assert teams.best_fit_member(req, np.array([3, 0]), 2, skill) == 3


def test_report_destination_heroic_is_the_top_hierarchical_is_the_manager():
    parent = np.array([-1, 0, 0, 1, 1])
    has_reports = np.array([True, True, False, False, False])
    assert teams.report_destination(HEROIC, 3, 0, parent, has_reports) == 0
    assert teams.report_destination(HIERARCHICAL, 3, 0, parent, has_reports) == 1
    assert teams.report_destination(HIERARCHICAL, 1, 0, parent, has_reports) == 1  # a manager keeps it
    assert teams.report_destination(HIERARCHICAL, 2, 0, parent, has_reports) == 0
