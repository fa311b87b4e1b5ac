"""Unexplained exits by EPI's 2019 definition, the direction-to-AP route, and school concentration.

Fixed seeds. The tolerances come from runs of the same set-up (stated beside each test)."""

import numpy as np

import simulation
from simulation import SchoolExitModel, load_scenario
from simulation.model.state import Kind, Reason, Status


def _handset(**changes):
    s = load_scenario("scenarios/baseline_handset.toml")
    return s.with_(**changes)


def test_moves_to_ap_without_exclusion_occur_at_about_fft_ratio():
    # Reference LA at scale 0.25 after the baseline's eight-year spin-up, 2 reported years, 3 seeds
    # pooled. FFT (Who's Left): about 8,700 moves to AP without exclusion against 3,900-5,400
    # exclusions, 1.6-2.2. Observed here 320 against 137, 2.3 (Poisson se of the ratio about 0.25);
    # with one burn-in year instead the ratio is 0.7, because AP places are still full of the
    # starting stock and exclusions run high. Band: 1.5 to 3.2, more than 3 se either side.
    burn = 8
    s = _handset(scale=0.25, years=2, burn_in=burn)
    directed = pex = between = 0
    metric = []
    for seed in range(1, 4):
        m = SchoolExitModel(scenario=s, seed=seed, record_events=True)
        m.run_for((burn + 2) * 52)
        for y in (burn, burn + 1):
            ev = m.log.year(y)
            mv = ev["kind"] == Kind.MOVE
            directed += np.count_nonzero(mv & (ev["recorded_reason"] == Reason.DIRECTED_TO_AP))
            pex += np.count_nonzero(mv & (ev["recorded_reason"] == Reason.PERMANENT_EXCLUSION))
            between += np.count_nonzero(
                mv
                & (ev["from_status"] == Status.ON_ROLL)
                & (ev["to_status"] == Status.ON_ROLL)
                & np.isin(ev["recorded_reason"], (Reason.TRANSFER, Reason.MANAGED_MOVE))
            )
        metric += [r["ap_without_exclusion_per_1000"] for r in m.observer.rows]
    assert directed > 100 and between > 0
    assert 1.5 < directed / pex < 3.2, (directed, pex)
    assert np.mean(metric) > 0


def test_unexplained_exits_are_more_concentrated_when_school_traits_correlate():
    # 40 small secondaries (top 6% = 3 schools), 20,000 pupils, 1 burn-in + 2 years, 20 seeds per arm
    # (common seeds). Observed with 10 seeds: top-6% share 24.4% at correlation 0 and 26.9% at 0.5,
    # paired difference 2.5 points (se 1.4). With 20 seeds the se is about 1: we ask for a positive
    # mean difference only.
    pop = simulation.PopulationSpec(n_pupils=20000, n_primary=60, n_secondary=40, n_special=3)
    base = _handset(population=pop, scale=1.0, years=2, burn_in=1)
    share = {}
    for rho in (0.0, 0.5):
        s = base.with_(parameters={**base.parameters, "school_trait_correlation": rho})
        share[rho] = []
        for seed in range(1, 21):
            m = SchoolExitModel(scenario=s, seed=seed)
            m.run_for(3 * 52)
            share[rho].append(np.mean([r["unexplained_exit_top6_share_pct"] for r in m.observer.rows]))
    diff = np.array(share[0.5]) - np.array(share[0.0])
    assert diff.mean() > 0, (np.mean(share[0.0]), np.mean(share[0.5]))
