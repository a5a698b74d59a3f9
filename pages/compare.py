"""Compare: two to ten models side by side — metrics, the error/sparsity trade-off, the L0–FVU frontier
across variants, reconstructions, activation distributions, filters and loss curves."""
import explorer.app.preload  # noqa: F401  — first: see its docstring

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
from explorer.variants.base import RECON_MSE
from explorer.views import pick_indices, reconstruction_rows

# The table's columns a student reads first (they fit a projector's 1024 px); the others on request.
FIRST_COLUMNS = ["setting", "recon MSE", "FVU", "mean L0", "dead fraction"]
COLUMN_FORMATS = {"recon MSE": st.column_config.NumberColumn(format="%.4f", help="Test reconstruction MSE per pixel"),
                  "FVU": st.column_config.NumberColumn(format="%.3f", help="Fraction of variance unexplained: "
                                                                          "Σ‖x − x̂‖² / Σ‖x − x̄‖²"),
                  "explained variance": st.column_config.NumberColumn(format="percent"),
                  "mean L0": st.column_config.NumberColumn(format="%.1f", help="Active units per image"),
                  "dead fraction": st.column_config.NumberColumn(format="percent",
                                                                 help="Units active on no test image"),
                  "dense fraction": st.column_config.NumberColumn(format="percent",
                                                                  help="Units active on > 10 % of images"),
                  "L2 ratio": st.column_config.NumberColumn(format="%.3f", help="mean ‖x̂‖ / ‖x‖"),
                  "mean activation": st.column_config.NumberColumn(format="%.3f"),
                  "mean |z|₁": st.column_config.NumberColumn(format="%.2f"),
                  "Σ KL(ρ‖ρ̂)": st.column_config.NumberColumn(format="%.3f"),
                  "train seconds": st.column_config.NumberColumn(format="%.1f")}


def numbers(compared: list[ComparedModel]) -> None:
    st.subheader("Numbers")
    table = pd.DataFrame([c.table_row() for c in compared]).dropna(axis="columns", how="all")
    others = [c for c in table.columns if c not in FIRST_COLUMNS]
    shown_table, more = st.container(), st.multiselect("More columns", others, key="cmp_columns",
                                                   placeholder="decoder, L2 ratio, train seconds, …",
                                                   help="The table's other columns; the CSV has every one.")
    # The widget is drawn below the table but read first: the table shows what it asks for.
    shown_table.dataframe(table[[c for c in table.columns if c in FIRST_COLUMNS or c in more]], hide_index=True,
                          width="stretch", column_config=COLUMN_FORMATS)
    st.download_button("Download table (CSV)", table.to_csv(index=False), file_name="comparison.csv",
                       mime="text/csv", icon=":material/download:")
    stability_view.section(compared)      # only when these are one setting trained from different seeds


def error_against_sparsity(compared: list[ComparedModel]) -> None:
    st.subheader("Error against sparsity")
    # One chart at a time, as in the section below: every Plotly chart on arrival costs a fresh browser time
    # (bench/page_weight.py).
    view = st.segmented_control("Show", ["these models", "the L0–FVU frontier, across sweeps"],
                                default="these models", key="cmp_view", required=True)
    if view == "these models":
        x_key = st.segmented_control("Sparsity measured as", list(SPARSITY_MEASURES), default="mean L0",
                                     key="cmp_x", required=True)
        st.plotly_chart(tradeoff(points(compared, x_key), x_key), config=PLOTLY_CONFIG, key="tradeoff")
        st.caption("Lower-left is better on both counts. Along a sweep, the curve shows how much reconstruction "
                   "each step of sparsity costs — pick the setting where it starts to rise steeply. Each model "
                   "counts a unit as active in its own code's terms (the table's 'active when'). Hover over a "
                   "point for its model.")
    else:
        the_frontier(compared)


def the_frontier(compared: list[ComparedModel]) -> None:
    sweeps = group_sweeps(entries)      # each sweep's models (shipped, and this browser's), in swept order
    # In a row that wraps rather than cutting a label short at a projector's width.
    toggles = st.container(horizontal=True, gap="large")
    with_sweeps = toggles.toggle("Add every sweep", value=True, key="cmp_all_sweeps", disabled=not sweeps,
                                 help="Draw each sweep (the shipped ones and this browser's) as a line beside the "
                                      "models chosen above.")
    log_x = toggles.toggle("Log scale for L0", value=False, key="cmp_log_l0")
    with_baselines = toggles.toggle("Classical baselines", value=True, key="cmp_baselines",
                                    help="PCA, NMF and OMP dictionary learning from scikit-learn, fitted on the "
                                         "training images and measured on the test split as the models are.")
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
    st.caption("FVU = Σ‖x − x̂‖² / Σ‖x − x̄‖² on the test split: 0 is perfect, 1 is no better than the mean image. "
               "Each line is a sweep (or a variant's models); ringed points are the Pareto front — no other model "
               "is both sparser and more faithful. Hollow, dotted lines are dense codes (sigmoid, Gaussian): their "
               "'inactive' units still pass small values to the decoder, so their L0 compares settings within the "
               "line, not with the others, and they take no part in the front. "
               + " · ".join(f"At L0 ≈ {l0:g}: **{h[0]}** holds the frontier (FVU {h[1]:.3f})"
                            for l0, h in holders if h))
    if baselines:
        st.caption("Dashed lines: classical baselines fitted on the training images — PCA and NMF with k "
                   f"components, and a {dictionary_atoms(baselines)}-atom dictionary (online dictionary learning) "
                   "coding each image with k non-zeros by orthogonal matching pursuit (OMP) — measured like the "
                   "models. They take no part in the Pareto front, which ranks the models.")
        if matchups := against_baseline(pts, baselines):
            st.markdown(f"**{matchup_summary(matchups)}**\n\n" + "\n".join(f"- {m.sentence()}" for m in matchups))


def same_images(compared: list[ComparedModel]) -> None:
    st.subheader("The same test images, reconstructed by each model")
    shown_images = pick_indices(data.test_y, 8, seed=page.seed(keys.COMPARE_SEED))
    x = data.test_x[shown_images]
    columns = st.columns(len(compared) + 1)
    columns[0].image(tiles_png(x.cpu().numpy(), data.image_shape, ncols=1, scale=3), caption="original", width=84)
    for column, c in zip(columns[1:], compared, strict=True):
        rec = reconstruction_rows(c.model, x)
        column.image(tiles_png(rec.reconstruction, data.image_shape, ncols=1, scale=3),
                     caption=f"{c.setting} · MSE {rec.mse.mean():.4f}", width=84)
    if st.button("Other images", icon=":material/shuffle:"):
        page.next_seed(keys.COMPARE_SEED)
        st.rerun()


def units_filters_training(compared: list[ComparedModel]) -> None:
    st.subheader("Each model's units, filters and training")
    # One of the three at a time: each is a chart or a grid per model, and a page that draws all of them
    # takes a fresh browser seconds to open (bench/page_weight.py).
    more = st.segmented_control("Show", ["encoder filters", "unit distributions", "loss curves"],
                                default="encoder filters", key="cmp_more", required=True)
    if more == "unit distributions":
        which = st.segmented_control("Distribution of", ["firing rate", "mean activation"], default="firing rate",
                                     key="cmp_dist", required=True)
        series = {c.setting: np.asarray(c.evaluation.code.unit_firing_rate if which == "firing rate"
                                        else c.evaluation.code.unit_mean_activation) for c in compared}
        st.plotly_chart(overlaid_histograms(series, f"Per-unit {which}, all models overlaid", which,
                                            log_x=which == "firing rate"), config=PLOTLY_CONFIG, key="dists")
        if which == "firing rate":
            st.caption("Dead units (firing rate 0) cannot be drawn on a log axis; the table counts them.")
    elif more == "encoder filters":
        st.caption("Each model's encoder filters (input-space weights of its code units), most active units first.")
        for column, c in page.in_rows(compared, 3):
            order = np.argsort(-np.asarray(c.evaluation.code.unit_firing_rate), kind="stable")
            filters = filters_as_images(caches.encoder_filters(c.key, c.model))[order][:64]
            column.image(tiles_png(filters, data.image_shape, ncols=8, scale=2), caption=c.setting)
    else:
        histories = {c.setting: c.history for c in compared if RECON_MSE.name in c.history.get("test", {})}
        if histories:
            st.plotly_chart(overlaid_curves(histories, RECON_MSE.name, RECON_MSE.title), config=PLOTLY_CONFIG,
                            key="curves")
            st.caption(f"{RECON_MSE.title}: the {RECON_MSE.about}, on the test split after each epoch — the same "
                       "number for every variant.")
        if missing := [c.setting for c in compared if c.setting not in histories]:
            st.caption(f"No {RECON_MSE.title} history for: {', '.join(missing)} (made by an older version, or "
                       "uploaded without a history).")


compare_page = page.data_page("Compare")
data = compare_page.data
entries = models.model_entries()

sweep_panel.apply_pending_selection()
sweep_panel.launcher(data)
chosen = picker.pick_models(keys.COMPARE_MODELS, entries, "compare")
links.publish("compare", {"models": [i for k in chosen if (i := links.model_id(entries[k]))]}, compare_page.link_slot)
if len(chosen) < 2:
    st.info("Pick at least two models — a preset above, or any shipped, trained or uploaded model.")
    st.stop()

# Everything below draws these models: the first look at new ones shows their evaluation's progress in its place.
page_body, compared, skipped = compared_with_progress(chosen, data)
with page_body:
    for message in skipped:
        st.warning(f"Left out — {message}")
    if len(compared) < 2:
        st.stop()
    if failed := [c.setting for c in compared if c.evaluation.learned_nothing]:
        st.warning(f"Learned nothing (no better than the average image): {', '.join(failed)}. They are crossed out "
                   "on the plots.", icon=":material/warning:")
    numbers(compared)
    error_against_sparsity(compared)
    same_images(compared)
    units_filters_training(compared)
