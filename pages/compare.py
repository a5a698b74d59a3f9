"""Compare: two to ten models side by side — metrics, the error/sparsity trade-off, the L0–FVU frontier
across variants, reconstructions, activation distributions, filters and loss curves."""
import explorer.app.preload  # noqa: F401  — first: see its docstring

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from explorer.activations import filters_as_images
from explorer.app import baseline_fits, caches, keys, links, models, page, picker, stability_view, sweep_panel
from explorer.app.catalog import frontier_sweeps, group_sweeps
from explorer.app.evaluating import compared_with_progress
from explorer.baselines import against_baseline, dictionary_atoms, matchup_summary
from explorer.compare import SPARSITY_MEASURES, ComparedModel, frontier_at, pareto_front, points
from explorer.figures import PLOTLY_CONFIG, frontier, overlaid_curves, overlaid_histograms, tiles_png, tradeoff
from explorer.i18n import N_, tr
from explorer.variants.base import RECON_MSE
from explorer.views import pick_indices, reconstruction_rows

# The chart builders (explorer.figures) translate the names handed to them (a sparsity measure, a distribution,
# a term's title); this page translates its own texts.

# The table's columns a student reads first (they fit a projector's 1024 px); the others on request.
FIRST_COLUMNS = ["setting", "recon MSE", "FVU", "mean L0", "dead fraction"]
# Each column's number format and help (None: none); the table shows them under their translated names.
COLUMN_FORMATS: dict[str, tuple[str, str | None]] = {
    "recon MSE": ("%.4f", N_("Test reconstruction MSE per pixel")),
    "FVU": ("%.3f", N_("Fraction of variance unexplained: Σ‖x − x̂‖² / Σ‖x − x̄‖²")),
    "explained variance": ("percent", None),
    "mean L0": ("%.1f", N_("Active units per image")),
    "dead fraction": ("percent", N_("Units active on no test image")),
    "dense fraction": ("percent", N_("Units active on > 10 % of images")),
    "L2 ratio": ("%.3f", N_("mean ‖x̂‖ / ‖x‖")),
    "mean activation": ("%.3f", None),
    "mean |z|₁": ("%.2f", None),
    "Σ KL(ρ‖ρ̂)": ("%.3f", None),
    "train seconds": ("%.1f", None)}
SHOWN_VALUES = ("decoder", "learned nothing")     # columns of words (linear/sigmoid, yes), shown translated


def column_formats() -> dict[str, Any]:
    """COLUMN_FORMATS keyed by the names the table shows, in the reader's language."""
    return {tr(name): st.column_config.NumberColumn(format=number, help=tr(about) if about else None)
            for name, (number, about) in COLUMN_FORMATS.items()}


def shown_table(table: pd.DataFrame) -> pd.DataFrame:
    """The table as the page shows it: column names and word values in the reader's language (the CSV keeps
    the English ones)."""
    shown = table.copy()
    for column in SHOWN_VALUES:
        if column in shown:
            shown[column] = shown[column].map(lambda v: tr(v) if isinstance(v, str) and v else v)
    return shown.rename(columns=tr)


def numbers(compared: list[ComparedModel]) -> None:
    st.subheader(tr("Numbers"))
    table = pd.DataFrame([c.table_row() for c in compared]).dropna(axis="columns", how="all")
    others = [c for c in table.columns if c not in FIRST_COLUMNS]
    shown, more = st.container(), st.multiselect(tr("More columns"), others, key="cmp_columns", format_func=tr,
                                                 placeholder=tr("decoder, L2 ratio, train seconds, …"),
                                                 help=tr("The table's other columns; the CSV has every one."))
    # The widget is drawn below the table but read first: the table shows what it asks for.
    shown.dataframe(shown_table(table[[c for c in table.columns if c in FIRST_COLUMNS or c in more]]),
                    hide_index=True, width="stretch", column_config=column_formats())
    st.download_button(tr("Download table (CSV)"), table.to_csv(index=False), file_name="comparison.csv",
                       mime="text/csv", icon=":material/download:")
    stability_view.section(compared)      # only when these are one setting trained from different seeds


def error_against_sparsity(compared: list[ComparedModel]) -> None:
    st.subheader(tr("Error against sparsity"))
    # One chart at a time, as in the section below: every Plotly chart on arrival costs a fresh browser time
    # (bench/page_weight.py).
    view = st.segmented_control(tr("Show"), [N_("these models"), N_("the L0–FVU frontier, across sweeps")],
                                default="these models", key="cmp_view", required=True, format_func=tr)
    if view == "these models":
        x_key = st.segmented_control(tr("Sparsity measured as"), list(SPARSITY_MEASURES), default="mean L0",
                                     key="cmp_x", required=True, format_func=tr)
        st.plotly_chart(tradeoff(points(compared, x_key), x_key), config=PLOTLY_CONFIG, key="tradeoff")
        st.caption(tr("Lower-left is better on both counts. Along a sweep, the curve shows how much reconstruction "
                      "each step of sparsity costs — pick the setting where it starts to rise steeply. Each model "
                      "counts a unit as active in its own code's terms (the table's 'active when'). Hover over a "
                      "point for its model."))
    else:
        the_frontier(compared)


def the_frontier(compared: list[ComparedModel]) -> None:
    sweeps = group_sweeps(entries)      # each sweep's models (shipped, and this browser's), in swept order
    # In a row that wraps rather than cutting a label short at a projector's width.
    toggles = st.container(horizontal=True, gap="large")
    with_sweeps = toggles.toggle(tr("Add every sweep"), value=True, key="cmp_all_sweeps", disabled=not sweeps,
                                 help=tr("Draw each sweep (the shipped ones and this browser's) as a line beside the "
                                         "models chosen above."))
    log_x = toggles.toggle(tr("Log scale for L0"), value=False, key="cmp_log_l0")
    with_baselines = toggles.toggle(tr("Classical baselines"), value=True, key="cmp_baselines",
                                    help=tr("PCA, NMF and OMP dictionary learning from scikit-learn, fitted on the "
                                            "training images and measured on the test split as the models are."))
    shown, chart = list(compared), st.container()
    if with_sweeps and sweeps:
        chosen_keys = {c.key for c in compared}
        extra = [k for members in frontier_sweeps(sweeps, entries).values() for k in members if k not in chosen_keys]
        chart, swept, _ = compared_with_progress(extra, data)
        shown += swept
    pts = points(shown, "mean L0", "FVU")
    front = pareto_front(pts)
    baselines = baseline_fits.beside([c.model for c in shown], data) if with_baselines else []
    chart.plotly_chart(frontier(pts, front, log_x, baselines), config=PLOTLY_CONFIG, key="frontier")
    holders = [(l0, frontier_at(pts, l0)) for l0 in (5.0, 10.0)]
    st.caption(tr("FVU = Σ‖x − x̂‖² / Σ‖x − x̄‖² on the test split: 0 is perfect, 1 is no better than the mean "
                  "image. Each line is a sweep (or a variant's models); ringed points are the Pareto front — no other "
                  "model is both sparser and more faithful. Hollow, dotted lines are dense codes (sigmoid, Gaussian): "
                  "their 'inactive' units still pass small values to the decoder, so their L0 compares settings "
                  "within the line, not with the others, and they take no part in the front. {holders}",
                  holders=" · ".join(tr("At L0 ≈ {l0:g}: **{group}** holds the frontier (FVU {fvu:.3f})", l0=l0,
                                        group=h[0], fvu=h[1]) for l0, h in holders if h)))
    if baselines:
        st.caption(tr("Dashed lines: classical baselines fitted on the training images — PCA and NMF with k "
                      "components, and a {atoms}-atom dictionary (online dictionary learning) coding each image with "
                      "k non-zeros by orthogonal matching pursuit (OMP) — measured like the models. They take no "
                      "part in the Pareto front, which ranks the models.", atoms=dictionary_atoms(baselines)))
        if matchups := against_baseline(pts, baselines):
            st.markdown(f"**{matchup_summary(matchups)}**\n\n" + "\n".join(f"- {m.sentence()}" for m in matchups))


def same_images(compared: list[ComparedModel]) -> None:
    st.subheader(tr("The same test images, reconstructed by each model"))
    shown_images = pick_indices(data.test_y, 8, seed=page.seed(keys.COMPARE_SEED))
    x = data.test_x[shown_images]
    columns = st.columns(len(compared) + 1)
    columns[0].image(tiles_png(x.cpu().numpy(), data.image_shape, ncols=1, scale=3), caption=tr("original"), width=84)
    for column, c in zip(columns[1:], compared, strict=True):
        rec = reconstruction_rows(c.model, x)
        column.image(tiles_png(rec.reconstruction, data.image_shape, ncols=1, scale=3),
                     caption=f"{c.setting} · MSE {rec.mse.mean():.4f}", width=84)
    if st.button(tr("Other images"), icon=":material/shuffle:"):
        page.next_seed(keys.COMPARE_SEED)
        st.rerun()


def units_filters_training(compared: list[ComparedModel]) -> None:
    st.subheader(tr("Each model's units, filters and training"))
    # One of the three at a time: each is a chart or a grid per model, and a page that draws all of them
    # takes a fresh browser seconds to open (bench/page_weight.py).
    more = st.segmented_control(tr("Show"), [N_("encoder filters"), N_("unit distributions"), N_("loss curves")],
                                default="encoder filters", key="cmp_more", required=True, format_func=tr)
    if more == "unit distributions":
        which = st.segmented_control(tr("Distribution of"), [N_("firing rate"), N_("mean activation")],
                                     default="firing rate", key="cmp_dist", required=True, format_func=tr)
        series = {c.setting: np.asarray(c.evaluation.code.unit_firing_rate if which == "firing rate"
                                        else c.evaluation.code.unit_mean_activation) for c in compared}
        st.plotly_chart(overlaid_histograms(series, tr("Per-unit {which}, all models overlaid", which=tr(which)),
                                            which, log_x=which == "firing rate"), config=PLOTLY_CONFIG, key="dists")
        if which == "firing rate":
            st.caption(tr("Dead units (firing rate 0) cannot be drawn on a log axis; the table counts them."))
    elif more == "encoder filters":
        st.caption(tr("Each model's encoder filters (input-space weights of its code units), most active units "
                      "first."))
        for column, c in page.in_rows(compared, 3):
            order = np.argsort(-np.asarray(c.evaluation.code.unit_firing_rate), kind="stable")
            filters = filters_as_images(caches.encoder_filters(c.key, c.model))[order][:64]
            column.image(tiles_png(filters, data.image_shape, ncols=8, scale=2), caption=c.setting)
    else:
        histories = {c.setting: c.history for c in compared if RECON_MSE.name in c.history.get("test", {})}
        if histories:
            st.plotly_chart(overlaid_curves(histories, RECON_MSE.name, RECON_MSE.title), config=PLOTLY_CONFIG,
                            key="curves")
            st.caption(tr("{title}: the {about}, on the test split after each epoch — the same number for every "
                          "variant.", title=tr(RECON_MSE.title), about=tr(RECON_MSE.about)))
        if missing := [c.setting for c in compared if c.setting not in histories]:
            st.caption(tr("No {title} history for: {models} (made by an older version, or uploaded without a "
                          "history).", title=tr(RECON_MSE.title), models=", ".join(missing)))


compare_page = page.data_page(tr("Compare"))
data = compare_page.data
entries = models.model_entries()

sweep_panel.apply_pending_selection()
sweep_panel.launcher(data)
chosen = picker.pick_models(keys.COMPARE_MODELS, entries, "compare")
links.publish("compare", {"models": [i for k in chosen if (i := links.model_id(entries[k]))]}, compare_page.link_slot)
if len(chosen) < 2:
    st.info(tr("Pick at least two models — a preset above, or any shipped, trained or uploaded model."))
    st.stop()

# Everything below draws these models: the first look at new ones shows their evaluation's progress in its place.
page_body, compared, skipped = compared_with_progress(chosen, data)
with page_body:
    for message in skipped:
        st.warning(tr("Left out — {message}", message=message))
    if len(compared) < 2:
        st.stop()
    if failed := [c.setting for c in compared if c.evaluation.learned_nothing]:
        st.warning(tr("Learned nothing (no better than the average image): {models}. They are crossed out on the "
                      "plots.", models=", ".join(failed)), icon=":material/warning:")
    numbers(compared)
    error_against_sparsity(compared)
    same_images(compared)
    units_filters_training(compared)
