"""Claims: the seed notes' claims about sparse and denoising codes, measured across a sweep or chosen models,
each with its measure, a chart with intervals, and a verdict computed from the data."""
import explorer.app.preload  # noqa: F401  — first: see its docstring

import functools
import json

import pandas as pd
import streamlit as st

from explorer.app import keys, links, measured, models, page, picker
from explorer.app.catalog import shown_sweep_title
from explorer.claim_figures import NOISE_MEASURES, compared_at, measure_against_l0, noise_curves
from explorer.claims import CONTRADICTED, HOLDS, INCONCLUSIVE, ClaimResult, claims_report, judge_claims
from explorer.figures import PLOTLY_CONFIG
from explorer.i18n import N_, language, tr
from explorer.measures import ModelMeasures
from explorer.noise import noise_label
from explorer.resampling import Estimate

DEFAULT_PRESET = (["k"], ["topk"])      # the k sweep of topk: every model has live units, across L0 2 to 32
VERDICT_BADGE = {HOLDS: N_(":green-badge[:material/check_circle: holds]"),
                 CONTRADICTED: N_(":red-badge[:material/cancel: contradicted]"),
                 INCONCLUSIVE: N_(":orange-badge[:material/help: inconclusive]")}
# The table's columns (English keys, shown with tr()) and the noise measures' short names.
COLUMNS = (N_("model"), N_("mean L0"), "FVU", N_("selectivity"), N_("its null"), "MIG", N_("MIG's null"),
           N_("probe k=1"), N_("probe k=5"), N_("dense probe"), N_("pixel probe"), N_("live units"))
NOISE_MEASURE_NAMES = {"code_cosine": N_("cosine"), "probe_dense": N_("probe"), "recon_mse": "MSE"}


def report_json(measures: list[ModelMeasures], results: list[ClaimResult]) -> str:
    """The download, written when it is clicked (not at every run)."""
    return json.dumps(claims_report(measures, results), indent=2)


def badge(verdict: str) -> str:
    """The verdict in words and colour (not an error box: a contradicted claim is a finding, not a failure);
    the verdict stays its value (holds, contradicted, inconclusive), the words are the reader's."""
    return tr(VERDICT_BADGE[verdict])


claims_page = page.data_page(tr("Claims"))
data = claims_page.data
entries = models.model_entries()
st.caption(tr("Do sparse codes really disentangle, resist noise and represent more efficiently, as the seed notes "
              "say? Each claim is measured on the test split of every chosen model, with a 95 % bootstrap interval "
              "(200 resamples of the test images), and judged across the models — never written by hand."))
chosen = picker.pick_models(keys.CLAIMS_MODELS, entries, "judge", default=shown_sweep_title(*DEFAULT_PRESET))
linked_models = [i for k in chosen if (i := links.model_id(entries[k]))]
if len(chosen) < 2:
    links.publish("claims", {"models": linked_models}, claims_page.link_slot)
    st.info(tr("Pick at least two models — a sweep's preset above, or any shipped, trained or uploaded models."))
    st.stop()

compared, skipped = models.compared_models(chosen, data)
for message in skipped:
    st.warning(tr("Left out — {message}", message=message))
device = models.current_device()
todo = [c for c in compared if not measured.ready(c.key, data.name, device)]
# Everything below in one slot: while new models are measured their progress bar takes its place, so the
# verdicts of the models chosen before leave the screen at once instead of sitting there faded.
results_slot = st.empty()
if todo:
    # A spinner beside the bar: the toolbar's running indicator is hidden (toolbarMode = "minimal").
    with st.spinner(tr("Measuring {count} model(s) on the test split, once for everyone (kept on disk)…",
                       count=len(todo))):
        bar = results_slot.progress(0.0, text=tr("Measuring…"))
        if not measured.reference_ready(data.name, device):
            bar.progress(0.0, text=tr("Measuring the {dataset} test images' strokes and the pixel probe (once per "
                                      "dataset)…", dataset=data.name))
            measured.reference(data, device)
        for n, c in enumerate(todo):
            bar.progress(n / len(todo), text=tr("Measuring {model} ({number} of {count})…", model=c.setting,
                                                number=n + 1, count=len(todo)))
            measured.measures(c.key, c.model, data, device)
        bar.empty()
with results_slot.container():
    results_of = [(c, measured.measures(c.key, c.model, data, device)) for c in compared]
    for c, got in results_of:
        if not isinstance(got, ModelMeasures):    # why it has none (a text, translated when shown)
            st.warning(tr("Left out — {model}: {why}", model=c.setting, why=str(got)), icon=":material/warning:")
    judged = [(c, m.named(c.label)) for c, m in results_of if isinstance(m, ModelMeasures)]
    if len(judged) < 2:
        links.publish("claims", {"models": linked_models}, claims_page.link_slot)
        st.error(tr("{count} of the chosen models can be measured; the claims need at least two.",
                    count=len(judged)))
        st.stop()
    labels, groups = [c.setting for c, _ in judged], [c.group for c, _ in judged]
    measures = [m for _, m in judged]
    results = judge_claims(measures, labels=labels, groups=groups)

    st.subheader(tr("Verdicts"))
    # One claim's section at a time (its chart is what a fresh browser pays for), chosen in the list of verdicts;
    # `claim=` in links, or every section at once on request.
    by_key = {r.claim.key: r for r in results}
    links.preset(keys.CLAIMS_SHOWN, "claim", links.one_of(list(by_key)), "claim")
    shown = st.radio(tr("Claim"), list(by_key), key=keys.CLAIMS_SHOWN, label_visibility="collapsed",
                     format_func=lambda k: f"{badge(by_key[k].verdict)} **{tr(by_key[k].claim.title)}** — "
                                           f"{by_key[k].summary}")
    every = st.toggle(tr("Every claim at once"), value=False, key="claims_every",
                      help=tr("Each claim's section below the other, with its chart (heavier to open)."))
    links.publish("claims", {"models": linked_models, "claim": None if every else shown}, claims_page.link_slot)

    for result in results if every else [by_key[shown]]:
        claim = result.claim
        st.subheader(tr(claim.title))
        if claim.seed_zh:     # the seed note's own words; a reader in English also gets them in English
            st.markdown(f"> {claim.seed_zh}" if language() == "zh" else f"> {claim.seed_zh}\n>\n> *{claim.seed_en}*")
        st.caption(tr("**Measured as** {measure} — {paper}.", measure=tr(claim.measure), paper=tr(claim.paper)))
        if claim.chart == "trend" and result.entries:
            axes = list(result.entries)      # English keys (measures), shown in the reader's language
            axis = axes[0] if len(axes) == 1 else st.segmented_control(
                tr("Against L0"), axes, default=axes[0], required=True, format_func=result.measure_name,
                key=f"claims_axis_{claim.key}")
            null = tr("the null: labels permuted") if "null" in axis else None
            name = result.measure_name(axis)
            st.plotly_chart(measure_against_l0(result.entries[axis], tr("{measure} against sparsity", measure=name),
                                               name, zero_line=null),
                            config=PLOTLY_CONFIG, key=f"chart_{claim.key}")
        elif claim.chart == "noise":
            c1, c2 = st.columns([3, 2])
            what = c1.segmented_control(tr("Measure"), list(NOISE_MEASURES), default="code_cosine", required=True,
                                        format_func=lambda m: tr(NOISE_MEASURE_NAMES[m]), key="claims_noise_measure",
                                        help=tr("cosine: of the clean and the noisy image's codes · probe: the dense "
                                                "probe on noisy codes · MSE: of the reconstruction against the clean "
                                                "image"))
            kind = c2.segmented_control(tr("Noise"), ["gaussian", "masking"], default="gaussian", required=True,
                                        format_func=noise_label, key="claims_noise_kind")
            st.plotly_chart(noise_curves(measures, labels, what, kind), config=PLOTLY_CONFIG, key=f"chart_{claim.key}")
        elif claim.chart == "pair" and result.noise is not None:
            pair = {e.label for points in result.entries.values() for e in points}     # the denoiser and its plain AE
            st.plotly_chart(noise_curves([m for m, label in zip(measures, labels, strict=True) if label in pair],
                                         [label for label in labels if label in pair], "recon_mse", result.noise.kind),
                            config=PLOTLY_CONFIG, key=f"chart_{claim.key}")
        elif claim.chart == "at_l0" and result.entries:
            at = next(iter(result.entries))
            st.plotly_chart(compared_at(result.entries[at], tr("{measure}: each line's model nearest that L0",
                                                               measure=result.measure_name(at)), tr("probe k=5")),
                            config=PLOTLY_CONFIG, key=f"chart_{claim.key}")
        with st.container(border=True):
            st.markdown(f"{badge(result.verdict)} {result.line}")
        for note in result.notes:
            st.caption(note)

    st.subheader(tr("Every number"))
    c1, c2 = st.columns(2)
    with_intervals = c1.toggle(tr("With 95 % intervals"), value=False, key="claims_intervals",
                               help=tr("Each estimate as value [low, high], from 200 bootstrap resamples of the "
                                       "test images."))
    every_column = c2.toggle(tr("Every column"), value=False, key="claims_columns",
                             help=tr("Also the nulls, the one-unit probe, the pixel probe and the live units."))


    def cell(e: Estimate, digits: int = 3) -> str:
        return e.shown(digits) if with_intervals else f"{e.value:.{digits}f}"


    rows = [{"model": label, "mean L0": cell(m.mean_l0, 1), "FVU": cell(m.fvu), "selectivity": cell(m.selectivity),
             "its null": f"{m.null_selectivity:.3f}", "MIG": cell(m.mig), "MIG's null": f"{m.null_mig:.3f}",
             "probe k=1": cell(m.probe_k1), "probe k=5": cell(m.probe_k5), "dense probe": cell(m.probe_dense),
             "pixel probe": cell(m.probe_pixels), "live units": str(len(m.live_units))}
            for label, m in zip(labels, measures, strict=True)]
    MORE = ["its null", "MIG's null", "probe k=1", "pixel probe", "live units"]     # on request: the table fits 1024 px
    table = pd.DataFrame(rows).set_index("model")
    table = table if every_column else table.drop(columns=MORE)
    # The column names are the English keys above; the table shows them in the reader's language.
    table = table.rename(columns=tr).rename_axis(tr("model"))
    # A plain table, not a data grid: ten rows need no sorting, and a fresh browser opens the page 0.3 s sooner.
    st.table(table)
    st.caption(tr("Probes: balanced accuracy of one-vs-rest logistic regressions on the k units that best tell each "
                  "class from the rest (dense: all units; pixels: all pixels), averaged over the classes; chance is "
                  "0.5. Nulls: the same measure with the labels permuted, 20 times. The JSON holds every number with "
                  "its interval, as `python -m explorer claims --json` prints it."))
    st.download_button(tr("Download every number (JSON)"), functools.partial(report_json, measures, results),
                       file_name="claims.json", mime="application/json", icon=":material/download:")
