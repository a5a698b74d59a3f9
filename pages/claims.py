"""Claims: the seed notes' claims about sparse and denoising codes, measured across a sweep or chosen models,
each with its measure, a chart with intervals, and a verdict computed from the data."""
import explorer.app.preload  # noqa: F401  — first: see its docstring

import functools
import json

import pandas as pd
import streamlit as st

from explorer.app import keys, links, measured, models, page, picker
from explorer.claim_figures import NOISE_MEASURES, compared_at, measure_against_l0, noise_curves
from explorer.claims import CONTRADICTED, HOLDS, INCONCLUSIVE, ClaimResult, claims_report, judge_claims
from explorer.figures import PLOTLY_CONFIG
from explorer.measures import ModelMeasures
from explorer.resampling import Estimate

DEFAULT_PRESET = "k sweep of topk"      # a sweep whose every model has live units, across L0 2 to 32
VERDICT_BADGE = {HOLDS: ":green-badge[:material/check_circle: holds]", CONTRADICTED: ":red-badge[:material/cancel: "
                 "contradicted]", INCONCLUSIVE: ":orange-badge[:material/help: inconclusive]"}


def report_json(measures: list[ModelMeasures], results: list[ClaimResult]) -> str:
    """The download, written when it is clicked (not at every run)."""
    return json.dumps(claims_report(measures, results), indent=2)


def badge(verdict: str) -> str:
    """The verdict in words and colour (not an error box: a contradicted claim is a finding, not a failure)."""
    return VERDICT_BADGE[verdict]


claims_page = page.data_page("Claims")
data = claims_page.data
entries = models.model_entries()
st.caption("Do sparse codes really disentangle, resist noise and represent more efficiently, as the seed notes "
           "say? Each claim is measured on the test split of every chosen model, with a 95 % bootstrap interval "
           "(200 resamples of the test images), and judged across the models — never written by hand.")
chosen = picker.pick_models(keys.CLAIMS_MODELS, entries, "judge", default=DEFAULT_PRESET)
linked_models = [i for k in chosen if (i := links.model_id(entries[k]))]
if len(chosen) < 2:
    links.publish("claims", {"models": linked_models}, claims_page.link_slot)
    st.info("Pick at least two models — a sweep's preset above, or any shipped, trained or uploaded models.")
    st.stop()

compared, skipped = models.compared_models(chosen, data)
for message in skipped:
    st.warning(f"Left out — {message}")
device = models.current_device()
todo = [c for c in compared if not measured.ready(c.key, data.name, device)]
# Everything below in one slot: while new models are measured their progress bar takes its place, so the
# verdicts of the models chosen before leave the screen at once instead of sitting there faded.
results_slot = st.empty()
if todo:
    # A spinner beside the bar: the toolbar's running indicator is hidden (toolbarMode = "minimal").
    with st.spinner(f"Measuring {len(todo)} model(s) on the test split, once for everyone (kept on disk)…"):
        bar = results_slot.progress(0.0, text="Measuring…")
        if not measured.reference_ready(data.name, device):
            bar.progress(0.0, text=f"Measuring the {data.name} test images' strokes and the pixel probe (once "
                                   "per dataset)…")
            measured.reference(data, device)
        for i, c in enumerate(todo):
            bar.progress(i / len(todo), text=f"Measuring {c.setting} ({i + 1} of {len(todo)})…")
            measured.measures(c.key, c.model, data, device)
        bar.empty()
with results_slot.container():
    results_of = [(c, measured.measures(c.key, c.model, data, device)) for c in compared]
    for c, result in results_of:
        if isinstance(result, str):
            st.warning(f"Left out — {c.setting}: {result}", icon=":material/warning:")
    judged = [(c, m.named(c.label)) for c, m in results_of if isinstance(m, ModelMeasures)]
    if len(judged) < 2:
        links.publish("claims", {"models": linked_models}, claims_page.link_slot)
        st.error(f"{len(judged)} of the chosen models can be measured; the claims need at least two.")
        st.stop()
    labels, groups = [c.setting for c, _ in judged], [c.group for c, _ in judged]
    measures = [m for _, m in judged]
    results = judge_claims(measures, labels=labels, groups=groups)

    st.subheader("Verdicts")
    # One claim's section at a time (its chart is what a fresh browser pays for), chosen in the list of verdicts;
    # `claim=` in links, or every section at once on request.
    by_key = {r.claim.key: r for r in results}
    links.preset(keys.CLAIMS_SHOWN, "claim", links.one_of(list(by_key)), "claim")
    shown = st.radio("Claim", list(by_key), key=keys.CLAIMS_SHOWN, label_visibility="collapsed",
                     format_func=lambda k: f"{badge(by_key[k].verdict)} **{by_key[k].claim.title}** — "
                                           f"{by_key[k].summary}")
    every = st.toggle("Every claim at once", value=False, key="claims_every",
                      help="Each claim's section below the other, with its chart (heavier to open).")
    links.publish("claims", {"models": linked_models, "claim": None if every else shown}, claims_page.link_slot)

    for result in results if every else [by_key[shown]]:
        claim = result.claim
        st.subheader(claim.title)
        if claim.seed_zh:
            st.markdown(f"> {claim.seed_zh}\n>\n> *{claim.seed_en}*")
        st.caption(f"**Measured as** {claim.measure} — {claim.paper}.")
        if claim.chart == "trend" and result.entries:
            axes = list(result.entries)
            axis = axes[0] if len(axes) == 1 else st.segmented_control(
                "Against L0", axes, default=axes[0], required=True, key=f"claims_axis_{claim.key}")
            null = "the null: labels permuted" if "null" in axis else None
            st.plotly_chart(measure_against_l0(result.entries[axis], f"{axis} against sparsity", axis, zero_line=null),
                            config=PLOTLY_CONFIG, key=f"chart_{claim.key}")
        elif claim.chart == "noise":
            c1, c2 = st.columns([3, 2])
            what = c1.segmented_control("Measure", list(NOISE_MEASURES), default="code_cosine", required=True,
                                        format_func={"code_cosine": "cosine", "probe_dense": "probe",
                                                     "recon_mse": "MSE"}.get, key="claims_noise_measure",
                                        help="cosine: of the clean and the noisy image's codes · probe: the dense "
                                             "probe on noisy codes · MSE: of the reconstruction against the clean "
                                             "image")
            kind = c2.segmented_control("Noise", ["gaussian", "masking"], default="gaussian", required=True,
                                        key="claims_noise_kind")
            st.plotly_chart(noise_curves(measures, labels, what, kind), config=PLOTLY_CONFIG, key=f"chart_{claim.key}")
        elif claim.chart == "pair" and result.noise is not None:
            pair = {e.label for points in result.entries.values() for e in points}     # the denoiser and its plain AE
            st.plotly_chart(noise_curves([m for m, label in zip(measures, labels, strict=True) if label in pair],
                                         [label for label in labels if label in pair], "recon_mse", result.noise.kind),
                            config=PLOTLY_CONFIG, key=f"chart_{claim.key}")
        elif claim.chart == "at_l0" and result.entries:
            at = next(iter(result.entries))
            st.plotly_chart(compared_at(result.entries[at], f"{at}: each line's model nearest that L0", "probe k=5"),
                            config=PLOTLY_CONFIG, key=f"chart_{claim.key}")
        with st.container(border=True):
            st.markdown(f"{badge(result.verdict)} {result.line}")
        for note in result.notes:
            st.caption(note)

    st.subheader("Every number")
    c1, c2 = st.columns(2)
    with_intervals = c1.toggle("With 95 % intervals", value=False, key="claims_intervals",
                               help="Each estimate as value [low, high], from 200 bootstrap resamples of the "
                                    "test images.")
    every_column = c2.toggle("Every column", value=False, key="claims_columns",
                             help="Also the nulls, the one-unit probe, the pixel probe and the live units.")


    def cell(e: Estimate, digits: int = 3) -> str:
        return e.shown(digits) if with_intervals else f"{e.value:.{digits}f}"


    rows = [{"model": label, "mean L0": cell(m.mean_l0, 1), "FVU": cell(m.fvu), "selectivity": cell(m.selectivity),
             "its null": f"{m.null_selectivity:.3f}", "MIG": cell(m.mig), "MIG's null": f"{m.null_mig:.3f}",
             "probe k=1": cell(m.probe_k1), "probe k=5": cell(m.probe_k5), "dense probe": cell(m.probe_dense),
             "pixel probe": cell(m.probe_pixels), "live units": str(len(m.live_units))}
            for label, m in zip(labels, measures, strict=True)]
    MORE = ["its null", "MIG's null", "probe k=1", "pixel probe", "live units"]     # on request: the table fits 1024 px
    table = pd.DataFrame(rows).set_index("model")
    # A plain table, not a data grid: ten rows need no sorting, and a fresh browser opens the page 0.3 s sooner.
    st.table(table if every_column else table.drop(columns=MORE))
    st.caption("Probes: balanced accuracy of one-vs-rest logistic regressions on the k units that best tell each class "
               "from the rest (dense: all units; pixels: all pixels), averaged over the classes; chance is 0.5. Nulls: "
               "the same measure with the labels permuted, 20 times. The JSON holds every number with its interval, "
               "as `python -m explorer claims --json` prints it.")
    st.download_button("Download every number (JSON)", functools.partial(report_json, measures, results),
                       file_name="claims.json", mime="application/json", icon=":material/download:")
