"""The seed notes' claims, judged across a set of models from their measures (explorer.measures).

A trend claim ("sparsity gives X") is judged by `spearman`, the rank correlation between mean L0 and the
measure over the models, and by the sparsest model against the densest with their 95 % intervals:
**holds** when the measure improves with sparsity (ρ says so, and so does the sparsest against the densest)
and the two intervals separate, **contradicted** when it worsens and they separate, **inconclusive**
otherwise. Selectivity and MIG are judged on their excess over the permuted-label null. The denoising
claim pits each denoiser against the plain autoencoder of its network shape at its own training noise;
the same-L0 question holds for the variant whose model nearest an L0 separates the classes best with an
interval clear of every other's. Every verdict is computed here, never written by hand, with the numbers
that decided it in one line."""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .i18n import N_, tr
from .measures import ModelMeasures
from .noise import NoiseSetting, noise_label
from .resampling import Estimate

HOLDS, CONTRADICTED, INCONCLUSIVE = "holds", "contradicted", "inconclusive"
VERDICTS = (HOLDS, CONTRADICTED, INCONCLUSIVE)
ROBUSTNESS_NOISE = NoiseSetting("gaussian", 0.3)     # the seed's denoising noise
DENOISING_FALLBACK = NoiseSetting("gaussian", 0.3)   # a denoiser's noise when its own is not among the measured
SAME_L0 = (10.0, 5.0, 20.0)     # where variants are compared at the same sparsity; the first with two or more decides
L0_TOLERANCE = 0.25             # a model is 'at L0 ≈ t' within ±25 % of t


CHARTS = {"trend": "the measure against mean L0, a line per group, intervals as error bars",
          "noise": "every model's noise curves",
          "pair": "the noise curves of the models compared",
          "at_l0": "each group's model at one L0, as bars"}


@dataclass(frozen=True)
class Claim:
    """One of the seed notes' claims: where it is said, and how it is measured. title, measure and paper
    are English keys (N_): a page shows them with tr(), `claims --json` as they are; seed_en is the seed
    note's sentence in English, shown only to a reader in English (a reader in Chinese has the original)."""

    key: str
    title: str
    seed_zh: str          # the seed note's own sentence
    seed_en: str
    measure: str          # what is measured, in one line
    paper: str
    chart: str = "trend"  # how a page draws it: CHARTS' keys


DISENTANGLE_ZH = ("特征解耦（Disentanglement）：稀疏性有助于学习到更加独立、含义更明确的特征。例如在人脸识别中，"
                  "一个神经元可能专门负责识别“眼镜”，另一个专门负责“胡子”，而不是纠缠在一起")
DISENTANGLE_EN = ("Disentanglement: sparsity helps learn more independent features with clearer meanings. In face "
                  "recognition, for example, one neuron may specialise in 'glasses' and another in 'moustache', "
                  "rather than the two being entangled.")
CLAIMS = (
    Claim("selectivity", N_("Sparsity → one unit, one class"), DISENTANGLE_ZH, DISENTANGLE_EN,
          N_("Class selectivity SI_j = (μ_max − μ_rest) / (μ_max + μ_rest) of each live unit's mean activity per "
             "class, averaged over live units, less its value with the labels permuted."),
          N_("Morcos et al., On the importance of single directions for generalization, ICLR 2018")),
    Claim("mig", N_("Sparsity → one factor, one unit"), DISENTANGLE_ZH, DISENTANGLE_EN,
          N_("Mutual information gap (I₁ − I₂) / H(v) between the code and the class and four stroke measures "
             "(area, width, slant, thickness), averaged over the factors, less its value with the factors "
             "permuted."),
          N_("Chen et al., Isolating sources of disentanglement in VAEs, NeurIPS 2018; strokes: Castro et al., "
             "Morpho-MNIST, JMLR 2019")),
    Claim("robustness", N_("Sparsity → robust to noise"), "抗噪能力：稀疏表示通常比稠密表示对噪声具有更强的鲁棒性",
          "Robustness to noise: sparse representations are usually more robust to noise than dense ones.",
          N_("At Gaussian noise σ = 0.3 on the test images: the mean cosine between the clean and the noisy "
             "image's code, and the dense probe (fitted on clean codes) on the noisy codes."),
          N_("Vincent et al., Extracting and composing robust features with denoising autoencoders, ICML 2008"),
          chart="noise"),
    Claim("denoising", N_("Denoising training → robust features"),
          "去噪自编码器……在输入数据中添加噪声，然后训练模型从噪声中恢复原始数据。这样可以使模型学习到更鲁棒的特征表示",
          "The denoising autoencoder adds noise to its input and learns to recover the original: this makes "
          "the model learn more robust features.",
          N_("Per-pixel MSE of the reconstruction of a noisy test image against the clean one, at the denoiser's "
             "own training noise: the denoiser against the plain autoencoder of the same network shape."),
          N_("Vincent et al., Extracting and composing robust features with denoising autoencoders, ICML 2008"),
          chart="pair"),
    Claim("efficiency", N_("Sparsity → an efficient representation"),
          "更高效的表示：在高维空间中，稀疏表示往往能更高效地捕捉数据的内在结构",
          "A more efficient representation: in high-dimensional spaces, sparse representations often capture "
          "the data's intrinsic structure more efficiently.",
          N_("How much of the class structure the 5 units that best tell each class from the rest carry: the "
             "k = 5 sparse probe's balanced accuracy, against mean L0 (FVU beside it: what the sparsity costs)."),
          N_("Gurnee et al., Finding neurons in a haystack, 2023; Karvonen et al., SAEBench, 2025")),
    Claim("same_l0", N_("At the same sparsity, which code separates the classes best?"), "", "",
          N_("At the same mean L0 (±25 % of 10, else 5 or 20), each variant's (or sweep's) model nearest it: the "
             "k = 5 sparse probe's balanced accuracy; a leader whose interval clears every other's."),
          N_("Karvonen et al., SAEBench, 2025 (sparse probing across architectures at matched L0)"), chart="at_l0"),
)
CLAIM_KEYS = tuple(c.key for c in CLAIMS)


def claim_named(key: str) -> Claim:
    return next(c for c in CLAIMS if c.key == key)


@dataclass(frozen=True)
class Entry:
    """One model on a claim's chart: its sparsity and its value of the measure (with its interval)."""

    label: str
    group: str
    mean_l0: float
    value: Estimate


@dataclass(frozen=True)
class Finding:
    """One measure's verdict: a trend over the models, or one model against another."""

    measure: str                  # e.g. 'selectivity − null'
    verdict: str
    line: str                     # the numbers that decided it, in one sentence
    spearman: float | None = None
    better: str = "higher"        # which way the measure improves: 'higher' | 'lower'
    first: Entry | None = None    # the sparsest (a trend) or the denoiser / the leader
    second: Entry | None = None   # the densest, or the plain AE / the runner-up
    why: str = ""                 # an inconclusive verdict's cause: one of HINTS' keys
    short: str = ""               # the gist in a few words, for a summary
    name: str = ""                # the measure as a page shows it, in the reader's language (default: measure)

    def to_dict(self) -> dict[str, Any]:
        def side(e: Entry | None) -> dict[str, Any] | None:
            return None if e is None else {"model": e.label, "mean_l0": e.mean_l0, "value": e.value.value,
                                           "interval": e.value.as_list()}
        return {"measure": self.measure, "verdict": self.verdict, "spearman": self.spearman, "line": self.line,
                "better": self.better, "first": side(self.first), "second": side(self.second)}


@dataclass(frozen=True)
class ClaimResult:
    """A claim judged across a set of models."""

    claim: Claim
    verdict: str
    line: str                              # the decisive numbers in one line
    findings: list[Finding]
    entries: dict[str, list[Entry]]        # measure → every model's point, for the chart
    notes: list[str] = field(default_factory=list)   # models left out, and what would settle an inconclusive verdict
    winner: str | None = None              # the same-L0 question: the variant that leads
    noise: NoiseSetting | None = None      # the denoising claim: the corruption it was judged at
    names: dict[str, str] = field(default_factory=dict)   # entries' keys as a page shows them (measure_name)

    def measure_name(self, measure: str) -> str:
        """One of entries' keys (an English measure, e.g. 'selectivity − null') in the reader's language."""
        return self.names.get(measure) or tr(measure)

    @property
    def spearman(self) -> float | None:
        return next((f.spearman for f in self.findings if f.spearman is not None), None)

    @property
    def summary(self) -> str:
        """The gist of what decided it, in a few words per finding."""
        return " · ".join(f.short or f.line for f in self.findings) or self.line

    def to_dict(self) -> dict[str, Any]:
        return {"claim": self.claim.key, "title": tr(self.claim.title), "verdict": self.verdict,
                "spearman": self.spearman, "line": self.line, "summary": self.summary, "winner": self.winner,
                "findings": [f.to_dict() for f in self.findings], "notes": self.notes}


class ClaimsInputError(ValueError):
    """The models given cannot be judged together (too few, or from different datasets)."""


def check_comparable(models: Sequence[ModelMeasures]) -> None:
    """ClaimsInputError unless there are two or more models, all measured on one dataset."""
    if len(models) < 2:
        raise ClaimsInputError(f"claims compare models: give at least two (got {len(models)})")
    datasets = sorted({m.dataset for m in models})
    if len(datasets) > 1:
        where = ", ".join(f"{m.checkpoint} on {m.dataset}" for m in models)
        raise ClaimsInputError(f"the models were measured on different datasets ({where}); claims compare "
                               f"models on one dataset — pick models trained on the same one")


def _spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    from scipy.stats import spearmanr

    if len(x) < 2 or len(set(x)) < 2 or len(set(y)) < 2:
        return None
    rho = float(spearmanr(x, y).statistic)
    return None if math.isnan(rho) else rho


def _shown(e: Entry, digits: int) -> str:
    return f"{e.label} (L0 {e.mean_l0:.1f}): {e.value.shown(digits)}"


def judge_trend(measure: str, entries: list[Entry], better: str = "higher", digits: int = 3) -> Finding:
    """Whether the measure improves as the code gets sparser, from ρ(L0, measure) and the sparsest against
    the densest model (see the module's docstring). measure: an English key (N_), shown with tr()."""
    name = tr(measure)
    if len(entries) < 2:
        return Finding(measure, INCONCLUSIVE, tr("{measure}: needs at least two models whose L0 can be compared "
                                                 "(got {count})", measure=name, count=len(entries)),
                       better=better, why="too_few", short=tr("{measure}: too few models", measure=name), name=name)
    by_l0 = sorted(entries, key=lambda e: e.mean_l0)
    sparsest, densest = by_l0[0], by_l0[-1]
    rho = _spearman([e.mean_l0 for e in entries], [e.value.value for e in entries])
    # Models within L0_TOLERANCE of each other's L0 are one sparsity (a seed sweep's, say): what differs
    # between them is chance, not sparsity, so no trend in sparsity is judged from them.
    if densest.mean_l0 <= (1 + L0_TOLERANCE) * sparsest.mean_l0 or rho is None:
        return Finding(measure, INCONCLUSIVE, tr("{measure}: the models do not differ in L0 (by more than "
                                                 "{tolerance:.0%}) or in the measure, so there is no trend to judge",
                                                 measure=name, tolerance=L0_TOLERANCE), rho, better,
                       sparsest, densest, "flat", tr("{measure}: no trend to judge", measure=name), name=name)
    sign = 1 if better == "higher" else -1
    improves = sign * (sparsest.value.value - densest.value.value) > 0
    rho_improves = sign * rho < 0          # the measure rises (improves) as L0 falls
    separate = sparsest.value.separates_from(densest.value)
    numbers = tr("Spearman ρ(L0, {measure}) = {rho:+.2f} over {count} models; sparsest {sparsest} vs densest "
                 "{densest}", measure=name, rho=rho, count=len(entries), sparsest=_shown(sparsest, digits),
                 densest=_shown(densest, digits))
    gist = tr("{measure}: {dense} at L0 {dense_l0:.0f} → {sparse} at L0 {sparse_l0:.0f} (ρ {rho:+.2f})",
              measure=name, dense=f"{densest.value.value:.{digits}f}", dense_l0=densest.mean_l0,
              sparse=f"{sparsest.value.value:.{digits}f}", sparse_l0=sparsest.mean_l0, rho=rho)
    if improves != rho_improves:
        return Finding(measure, INCONCLUSIVE, tr("{numbers} — the sparsest-vs-densest difference and the rank "
                                                 "correlation disagree (no monotone trend)", numbers=numbers),
                       rho, better, sparsest, densest, "not_monotone", tr("{gist}, not monotone", gist=gist),
                       name=name)
    if not separate:
        return Finding(measure, INCONCLUSIVE, tr("{numbers} — the two intervals overlap", numbers=numbers), rho,
                       better, sparsest, densest, "overlap", tr("{gist}, intervals overlap", gist=gist), name=name)
    verdict = HOLDS if improves else CONTRADICTED
    line = (tr("{numbers} — it improves with sparsity and the intervals separate", numbers=numbers) if improves
            else tr("{numbers} — it worsens with sparsity and the intervals separate", numbers=numbers))
    return Finding(measure, verdict, line, rho, better, sparsest, densest, short=gist, name=name)


def combine(findings: Sequence[Finding]) -> str:
    """A claim measured several ways: holds (or contradicted) when every way says so, else inconclusive."""
    verdicts = {f.verdict for f in findings}
    return verdicts.pop() if len(verdicts) == 1 and findings else INCONCLUSIVE


def _ranked(models: Sequence[ModelMeasures], labels: Sequence[str]) -> tuple[list[int], list[str]]:
    """The models whose L0 can be ranked together, and a note on those left out: all of them when they
    share one code kind; else only codes with exact zeros (a dense code's L0 counts units more on than off,
    which compares settings of one code kind, not codes of different kinds)."""
    if len({m.code_kind for m in models}) <= 1:
        return list(range(len(models))), []
    keep = [i for i, m in enumerate(models) if m.exact_zeros]
    left = [f"{labels[i]} ({models[i].code_kind})" for i in range(len(models)) if i not in keep]
    notes = [tr("Left out of the sparsity ranking: {models} — dense codes, whose L0 does not count the units "
                "their decoder reads, so it ranks only against codes of the same kind.", models=", ".join(left))
             ] if left else []
    return keep, notes


def judge_claims(models: Sequence[ModelMeasures], labels: Sequence[str] | None = None,
                 groups: Sequence[str] | None = None) -> list[ClaimResult]:
    """Every claim judged across the models (labels name them in the lines, default their checkpoint;
    groups are the lines the efficiency claim compares, default their variant)."""
    check_comparable(models)
    labels = list(labels) if labels is not None else [m.checkpoint for m in models]
    groups = list(groups) if groups is not None else [m.variant for m in models]
    ranked, notes = _ranked(models, labels)

    def entries(value: Callable[[ModelMeasures], Estimate | None]) -> list[Entry]:
        out = []
        for i in ranked:
            v = value(models[i])
            if v is not None:
                out.append(Entry(labels[i], groups[i], models[i].mean_l0.value, v))
        return out

    def noisy(m: ModelMeasures, what: str) -> Estimate | None:
        point = m.noise_at(ROBUSTNESS_NOISE)
        return None if point is None else getattr(point, what)

    results = []
    excesses: tuple[tuple[str, str, Callable[[ModelMeasures], Estimate]], ...] = (
        ("selectivity", N_("selectivity − null"), lambda m: m.selectivity.shifted(m.null_selectivity)),
        ("mig", N_("MIG − null"), lambda m: m.mig.shifted(m.null_mig)))
    for key, measure, value in excesses:
        points = entries(value)
        finding = judge_trend(measure, points)
        results.append(ClaimResult(claim_named(key), finding.verdict, finding.line, [finding], {measure: points},
                                   notes + _inconclusive_hint(finding)))
    cosine, probe = entries(lambda m: noisy(m, "code_cosine")), entries(lambda m: noisy(m, "probe_dense"))
    findings = [judge_trend(N_("code cosine at σ = 0.3"), cosine), judge_trend(N_("dense probe at σ = 0.3"), probe)]
    results.append(ClaimResult(claim_named("robustness"), combine(findings), " · ".join(f.line for f in findings),
                               findings, {"code cosine at σ = 0.3": cosine, "dense probe at σ = 0.3": probe},
                               notes + list(dict.fromkeys(h for f in findings for h in _inconclusive_hint(f)))))
    results.append(_judge_denoising(models, labels, groups))
    probe_k5, fvu = entries(lambda m: m.probe_k5), entries(lambda m: m.fvu)
    finding = judge_trend(N_("probe k=5"), probe_k5)
    results.append(ClaimResult(claim_named("efficiency"), finding.verdict, finding.line, [finding],
                               {"probe k=5": probe_k5, "FVU": fvu}, notes + _inconclusive_hint(finding)))
    results.append(_judge_same_l0(probe_k5, notes))
    return results


HINTS = {   # English keys (N_), each a sentence judge_claims adds to an inconclusive claim's notes with tr()
    "too_few": N_("Too few models to judge: pick two or more whose L0 compares (a sweep, or the sparse "
                  "autoencoders)."),
    "flat": N_("The models do not differ in sparsity or in the measure: pick models across a range of sparsity."),
    "overlap": N_("The intervals of the sparsest and the densest model overlap: a wider range of sparsity (or a "
                  "larger test split) would settle it."),
    "not_monotone": N_("The measure does not move one way along the models: more models between the sparsest "
                       "and the densest would show whether there is a trend at all."),
    "tied": N_("The leader's interval overlaps the runner-up's: at this L0 they separate the classes about "
               "equally well."),
}


def _inconclusive_hint(finding: Finding) -> list[str]:
    """What would settle an inconclusive finding, in a sentence (nothing for a settled one)."""
    return [tr(HINTS[finding.why])] if finding.verdict == INCONCLUSIVE and finding.why in HINTS else []


def _judge_denoising(models: Sequence[ModelMeasures], labels: list[str], groups: list[str]) -> ClaimResult:
    claim = claim_named("denoising")
    findings: list[Finding] = []
    entries: list[Entry] = []
    judged_at: NoiseSetting | None = None
    for i, m in enumerate(models):
        if m.training_noise is None:
            continue
        setting = m.training_noise if m.noise_at(m.training_noise) is not None else DENOISING_FALLBACK
        partners = [j for j, p in enumerate(models) if p.plain and p.shape == m.shape]
        point = m.noise_at(setting)
        if point is None or not partners:
            continue
        first = Entry(labels[i], groups[i], m.mean_l0.value, point.recon_mse)
        entries.append(first)
        for j in partners:
            other = models[j].noise_at(setting)
            if other is None:
                continue
            second = Entry(labels[j], groups[j], models[j].mean_l0.value, other.recon_mse)
            entries.append(second)
            lower = point.recon_mse.value < other.recon_mse.value
            separate = point.recon_mse.separates_from(other.recon_mse)
            verdict = (HOLDS if lower else CONTRADICTED) if separate else INCONCLUSIVE
            tail = tr("the intervals separate") if separate else tr("the intervals overlap")
            line = tr("noisy-input MSE at {kind} {level:g}: {denoiser} {denoiser_mse} vs the plain {plain} "
                      "{plain_mse} — {comparison}, {tail}", kind=noise_label(setting.kind), level=setting.level,
                      denoiser=labels[i], denoiser_mse=point.recon_mse.shown(4), plain=labels[j],
                      plain_mse=other.recon_mse.shown(4), comparison=tr("lower") if lower else tr("higher"),
                      tail=tail)
            judged_at = judged_at or setting             # the chart's noise: the first pair's
            findings.append(Finding(f"noisy-input MSE ({setting.kind} {setting.level:g})", verdict, line,
                                    better="lower", first=first, second=second, why="" if separate else "overlap",
                                    short=tr("noisy-input MSE {denoiser_mse:.4f} ({denoiser}) vs {plain_mse:.4f} "
                                             "(plain {plain})", denoiser_mse=point.recon_mse.value,
                                             denoiser=labels[i], plain_mse=other.recon_mse.value, plain=labels[j]),
                                    name=tr("noisy-input MSE ({kind} {level:g})", kind=noise_label(setting.kind),
                                            level=setting.level)))
    if not findings:
        return ClaimResult(claim, INCONCLUSIVE, tr("not measured: needs a denoising model and the plain autoencoder "
                                                   "of the same network shape among the models"), [], {},
                           [tr("Add a denoising model and the plain autoencoder of its shape (the shipped "
                               "`denoising` and `ae` are both 784-128-32).")])
    verdict = combine(findings)
    return ClaimResult(claim, verdict, " · ".join(f.line for f in findings), findings,
                       {findings[0].measure: list({e.label: e for e in entries}.values())},
                       [] if verdict != INCONCLUSIVE else [tr("The intervals overlap, or the pairs disagree: a "
                                                              "denoiser trained longer or at another noise level "
                                                              "would tell more.")], noise=judged_at,
                       names={f.measure: f.name for f in findings})


def _judge_same_l0(points: list[Entry], notes: list[str]) -> ClaimResult:
    """At the same L0, the group (variant or sweep) whose model nearest it has the best k = 5 probe: at
    the first of SAME_L0 where two or more groups have a model within L0_TOLERANCE."""
    claim = claim_named("same_l0")
    findings, charts, names = [], {}, {}
    for target in SAME_L0:
        near: dict[str, Entry] = {}
        for e in points:
            if abs(e.mean_l0 - target) <= L0_TOLERANCE * target:
                best = near.get(e.group)
                if best is None or abs(e.mean_l0 - target) < abs(best.mean_l0 - target):
                    near[e.group] = e
        if len(near) < 2:
            continue
        order = sorted(near.values(), key=lambda e: -e.value.value)
        measure = f"probe k=5 at L0 ≈ {target:g}"
        charts[measure] = order
        names[measure] = tr("probe k=5 at L0 ≈ {target:g}", target=target)
        leader, runner_up = order[0], order[1]
        clear = all(leader.value.separates_from(e.value) for e in order[1:])
        tail = (tr("its interval clear of every other's") if clear
                else tr("tied with {group} (the intervals overlap)", group=runner_up.group))
        line = tr("at L0 ≈ {target:g}: {leader} leads — probe k=5 {leader_shown} vs {runner_up}: {runner_up_shown}, "
                  "{tail}", target=target, leader=leader.group, leader_shown=_shown(leader, 3),
                  runner_up=runner_up.group, runner_up_shown=_shown(runner_up, 3), tail=tail)
        values = dict(target=target, leader=leader.group, leader_value=leader.value.value, runner_up=runner_up.group,
                      runner_up_value=runner_up.value.value)
        short = (tr("L0 ≈ {target:g}: {leader} {leader_value:.3f} vs {runner_up} {runner_up_value:.3f}", **values)
                 if clear else
                 tr("L0 ≈ {target:g}: {leader} {leader_value:.3f} vs {runner_up} {runner_up_value:.3f}, tied",
                    **values))
        findings.append(Finding(measure, HOLDS if clear else INCONCLUSIVE, line, first=leader, second=runner_up,
                                why="" if clear else "tied", short=short, name=names[measure]))
    if not findings:
        present = sorted({e.group for e in points})
        return ClaimResult(claim, INCONCLUSIVE, tr("not measured: needs models of two or more variants (or sweeps) "
                                                   "at the same L0 (±25 % of 10, 5 or 20)"), [], {},
                           notes + [tr("This set has models of {count} line(s) ({lines}): add another variant's "
                                       "models, e.g. the topk and batch_topk sweeps together.", count=len(present),
                                       lines=", ".join(present) or tr("none"))])
    decisive = findings[0]
    return ClaimResult(claim, decisive.verdict, " · ".join(f.line for f in findings), findings, charts,
                       notes + _inconclusive_hint(decisive),
                       winner=decisive.first.group if decisive.verdict == HOLDS and decisive.first else None,
                       names=names)


def _json_safe(value: Any) -> Any:
    """NaN and infinities (an interval with no finite draw) as null: `claims --json` is strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def claims_report(models: Sequence[ModelMeasures], results: Sequence[ClaimResult]) -> dict[str, Any]:
    """What `claims --json` prints and the Claims page downloads: every model's measures and every verdict."""
    return _json_safe({"models": [m.to_dict() for m in models], "claims": [r.to_dict() for r in results]})
