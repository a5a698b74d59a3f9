"""Verdicts computed from measures: holds, contradicted and inconclusive for each claim, from made-up
models whose numbers say which it must be."""
from __future__ import annotations

from dataclasses import replace

import pytest

from explorer.claims import (
    CLAIM_KEYS,
    CONTRADICTED,
    HOLDS,
    INCONCLUSIVE,
    ClaimsInputError,
    Entry,
    claims_report,
    judge_claims,
    judge_trend,
)
from explorer.measures import NOISE_GRID, ModelMeasures, NoisePoint
from explorer.noise import NoiseSetting
from explorer.resampling import Estimate


def est(value: float, half: float = 0.01) -> Estimate:
    return Estimate(value, value - half, value + half)


def fake(name: str, l0: float, selectivity: float = 0.5, null: float = 0.1, mig: float = 0.05, probe_k5: float = 0.8,
         cosine: float = 0.9, probe_noisy: float = 0.8, noisy_mse: float = 0.03, variant: str = "topk",
         code_kind: str = "top-k (ReLU)", exact_zeros: bool = True, shape: str = "784-64", dataset: str = "mnist-5k",
         training_noise: NoiseSetting | None = None, plain: bool = False, half: float = 0.01) -> ModelMeasures:
    noise = [NoisePoint(s.kind, s.level, est(noisy_mse, half / 10), est(cosine, half), est(probe_noisy, half))
             for s in NOISE_GRID]
    return ModelMeasures(
        checkpoint=name, variant=variant, dataset=dataset, n_test=1000, code_kind=code_kind, exact_zeros=exact_zeros,
        shape=shape, training_noise=training_noise, plain=plain, learned_nothing=False, mean_l0=est(l0, 0.1),
        fvu=est(0.1 + l0 / 100), live_units=[0, 1], selectivity=est(selectivity, half), selectivity_per_unit=[0.5, 0.5],
        class_profile=[[1.0] * 10, [1.0] * 10], mig=est(mig, half), mig_per_factor={"class": est(mig, half)},
        probe_k1=est(0.7), probe_k5=est(probe_k5, half), probe_dense=est(0.9), probe_pixels=est(0.92),
        null_selectivity=null, null_mig=0.0, null_mig_per_factor={"class": 0.0}, noise=noise)


def verdicts(models, **kw) -> dict[str, str]:
    return {r.claim.key: r.verdict for r in judge_claims(models, **kw)}


def test_a_measure_that_rises_as_l0_falls_holds_and_one_that_falls_is_contradicted():
    sweep = [fake("k2", 2, selectivity=0.9, mig=0.01), fake("k5", 5, selectivity=0.7, mig=0.03),
             fake("k20", 20, selectivity=0.4, mig=0.06)]
    v = verdicts(sweep)
    assert v["selectivity"] == HOLDS and v["mig"] == CONTRADICTED
    result = next(r for r in judge_claims(sweep) if r.claim.key == "selectivity")
    assert result.spearman == pytest.approx(-1.0)
    assert "k2 (L0 2.0): 0.800" in result.line and "k20 (L0 20.0): 0.300" in result.line   # excess over the null
    assert result.findings[0].first.label == "k2" and result.findings[0].second.label == "k20"


def test_the_null_decides_not_the_raw_number():
    # raw selectivity rises with sparsity, but only as much as its null does: no excess, no trend
    sweep = [fake("k2", 2, selectivity=0.9, null=0.6), fake("k20", 20, selectivity=0.4, null=0.1)]
    result = next(r for r in judge_claims(sweep) if r.claim.key == "selectivity")
    assert result.verdict == INCONCLUSIVE and "no trend" in result.line


def test_overlapping_intervals_and_a_non_monotone_trend_are_inconclusive_with_what_would_settle_it():
    close = [fake("a", 2, selectivity=0.52, half=0.05), fake("b", 20, selectivity=0.50, half=0.05)]
    result = next(r for r in judge_claims(close) if r.claim.key == "selectivity")
    assert result.verdict == INCONCLUSIVE and "overlap" in result.line
    assert any("wider range of sparsity" in n for n in result.notes)
    # the sparsest beats the densest, but the measure mostly rises with L0 (ρ > 0): no one-way trend
    zigzag = [fake("a", 2, selectivity=0.62), fake("b", 5, selectivity=0.3), fake("c", 10, selectivity=0.4),
              fake("d", 15, selectivity=0.45), fake("e", 20, selectivity=0.58)]
    result = next(r for r in judge_claims(zigzag) if r.claim.key == "selectivity")
    assert result.verdict == INCONCLUSIVE and "disagree" in result.line


def test_robustness_needs_both_measures_to_agree():
    both = [fake("a", 2, cosine=0.95, probe_noisy=0.9), fake("b", 20, cosine=0.8, probe_noisy=0.7)]
    assert verdicts(both)["robustness"] == HOLDS
    split = [fake("a", 2, cosine=0.95, probe_noisy=0.7), fake("b", 20, cosine=0.8, probe_noisy=0.9)]
    assert verdicts(split)["robustness"] == INCONCLUSIVE
    worse = [fake("a", 2, cosine=0.8, probe_noisy=0.7), fake("b", 20, cosine=0.95, probe_noisy=0.9)]
    assert verdicts(worse)["robustness"] == CONTRADICTED


def test_denoising_is_judged_against_the_plain_autoencoder_of_the_same_shape():
    gauss = NoiseSetting("gaussian", 0.3)
    plain = fake("ae", 20, variant="ae", shape="784-128-32", plain=True, noisy_mse=0.038)
    denoiser = fake("dae", 24, variant="denoising", shape="784-128-32", training_noise=gauss, noisy_mse=0.015)
    result = next(r for r in judge_claims([plain, denoiser]) if r.claim.key == "denoising")
    assert result.verdict == HOLDS and result.noise == gauss and "dae 0.0150" in result.line
    assert {e.label for e in result.entries[result.findings[0].measure]} == {"ae", "dae"}
    worse = replace(denoiser, noise=[replace(p, recon_mse=est(0.05, 0.001)) for p in denoiser.noise])
    assert verdicts([plain, worse])["denoising"] == CONTRADICTED
    other_shape = replace(plain, shape="784-64")
    result = next(r for r in judge_claims([other_shape, denoiser]) if r.claim.key == "denoising")
    assert result.verdict == INCONCLUSIVE and result.line.startswith("not measured")


def test_efficiency_and_which_variant_leads_at_the_same_l0():
    models = [fake("topk k=5", 5, probe_k5=0.85), fake("topk k=10", 10, probe_k5=0.80),
              fake("batch k=5", 5.2, probe_k5=0.81), fake("batch k=10", 10.3, probe_k5=0.70)]
    groups = ["topk", "topk", "batch_topk", "batch_topk"]
    results = {r.claim.key: r for r in judge_claims(models, groups=groups)}
    assert results["efficiency"].verdict == HOLDS
    same = results["same_l0"]
    assert same.verdict == HOLDS and same.winner == "topk"
    assert same.findings[0].measure == "probe k=5 at L0 ≈ 10" and "topk leads" in same.line
    tied = [replace(m, probe_k5=est(0.8, 0.05)) for m in models]
    same = next(r for r in judge_claims(tied, groups=groups) if r.claim.key == "same_l0")
    assert same.verdict == INCONCLUSIVE and same.winner is None and "tied" in same.line
    one_line = next(r for r in judge_claims(models[:2]) if r.claim.key == "same_l0")
    assert one_line.verdict == INCONCLUSIVE and "1 line" in one_line.notes[-1]


def test_dense_codes_leave_a_mixed_ranking_with_a_note_and_rank_among_themselves():
    kl = [fake("kl a", 3, selectivity=0.8, code_kind="sigmoid", exact_zeros=False, variant="sparse_kl"),
          fake("kl b", 9, selectivity=0.5, code_kind="sigmoid", exact_zeros=False, variant="sparse_kl")]
    assert verdicts(kl)["selectivity"] == HOLDS                      # one code kind: ranked among themselves
    mixed = [*kl, fake("topk", 10, selectivity=0.6)]
    result = next(r for r in judge_claims(mixed) if r.claim.key == "selectivity")
    assert result.verdict == INCONCLUSIVE and "needs at least two" in result.line     # one model left to rank
    assert any("kl a (sigmoid)" in n and "dense codes" in n for n in result.notes)


def test_bad_sets_of_models_say_what_to_do():
    with pytest.raises(ClaimsInputError, match="at least two"):
        judge_claims([fake("a", 2)])
    with pytest.raises(ClaimsInputError, match="different datasets.*a on mnist-5k, b on digits"):
        judge_claims([fake("a", 2), fake("b", 5, dataset="digits")])


def test_every_claim_is_judged_and_the_report_is_strict_json():
    import json

    models = [fake("a", 2), replace(fake("b", 20), selectivity=Estimate(0.5, float("nan"), float("nan")))]
    results = judge_claims(models)
    assert [r.claim.key for r in results] == list(CLAIM_KEYS)
    report = claims_report(models, results)
    text = json.dumps(report, allow_nan=False)                         # NaN became null
    assert set(report) == {"models", "claims"} and "NaN" not in text
    claim = report["claims"][0]
    assert {"claim", "verdict", "spearman", "line", "findings"} <= set(claim)


def test_judge_trend_with_a_lower_is_better_measure():
    entries = [Entry("a", "g", 2, est(0.02)), Entry("b", "g", 20, est(0.05))]
    assert judge_trend("MSE", entries, better="lower").verdict == HOLDS
    assert judge_trend("MSE", entries, better="higher").verdict == CONTRADICTED


def test_models_of_one_sparsity_have_no_trend_to_judge_however_far_apart_their_values():
    """A seed sweep: one setting, L0 10.0 to 10.4, values whose intervals separate — chance, not sparsity."""
    entries = [Entry("seed=0", "s", 10.0, est(0.20)), Entry("seed=1", "s", 10.2, est(0.30)),
               Entry("seed=2", "s", 10.4, est(0.40))]
    finding = judge_trend("MIG − null", entries)
    assert finding.verdict == INCONCLUSIVE and "no trend to judge" in finding.line
    spread = [Entry("a", "s", 8.0, est(0.40)), Entry("b", "s", 10.1, est(0.20))]      # 26 % apart: judged
    assert judge_trend("MIG − null", spread).verdict == HOLDS
