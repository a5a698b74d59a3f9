"""Compare: two to six models side by side — metrics, the error/sparsity trade-off, reconstructions,
activation distributions, filters and loss curves."""
import explorer.preload  # noqa: F401  — first: see its docstring
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from explorer import st_cache
from explorer.activations import filters_as_images
from explorer.checkpoint import CheckpointError, check_dataset_fits
from explorer.compare import describe_settings, metrics_row, sweep_value
from explorer.figures import PLOTLY_CONFIG, overlaid_curves, overlaid_histograms, tiles_png, tradeoff
from explorer.views import pick_indices, reconstruction_rows

data = st_cache.data_page("Compare")
entries = st_cache.model_entries()


def keys_under(folder: str) -> list[str]:
    """A shipped sweep's checkpoints, in the order of the swept value."""
    keys = [k for k, e in entries.items() if e.path and f"/sweeps/{folder}/" in e.path]
    return sorted(keys, key=lambda k: sweep_value(Path(entries[k].path).stem))[:6]


def shipped_variants() -> list[str]:
    return [k for k, e in entries.items() if e.source == "shipped" and e.path and "/sweeps/" not in e.path][:6]


PRESETS = {"λ sweep of sparse_l1": keys_under("sparse_l1-lam"), "β sweep of sparse_kl": keys_under("sparse_kl-beta"),
           "the shipped variants": shipped_variants(),
           "models I trained or uploaded": [k for k, e in entries.items() if e.source != "shipped"][:6]}
st.session_state.setdefault("cmp_models", next((v for v in PRESETS.values() if len(v) >= 2), list(entries)[:2]))
st.session_state["cmp_models"] = [k for k in st.session_state["cmp_models"] if k in entries]

cols = st.columns(len(PRESETS))
for col, (name, keys) in zip(cols, PRESETS.items()):
    col.button(name, disabled=len(keys) < 2, width="stretch", key=f"preset_{name}",
               on_click=lambda keys=keys: st.session_state.update(cmp_models=keys),
               help="Needs at least two models." if len(keys) < 2 else f"{len(keys)} models")
chosen = st.multiselect("Models to compare (two to six)", list(entries), key="cmp_models", max_selections=6,
                        format_func=lambda k: entries[k].label)
if len(chosen) < 2:
    st.info("Pick at least two models — a preset above, or any shipped, trained or uploaded model.")
    st.stop()

loaded, skipped = [], []
for key in chosen:
    entry = entries[key]
    try:
        model = st_cache.load_entry(entry, st_cache.current_device())
        check_dataset_fits(model, data.name, data.input_dim, data.image_shape)
        loaded.append((key, entry, model))
    except CheckpointError as exc:
        skipped.append(f"{entry.label}: {exc}")
models, rows = {}, []
for (key, entry, model), setting in zip(loaded, describe_settings([m for _, _, m in loaded])):
    name = setting if setting not in models else f"{setting} [{entry.label}]"
    models[name] = (key, model, getattr(model, "meta", None) or entry.meta)
    metrics = st_cache.metrics(key, model, data.name, st_cache.current_device())
    rows.append({**metrics_row(entry.label, name, metrics, models[name][2]), "_metrics": metrics})
for message in skipped:
    st.warning(f"Left out — {message}")
if len(models) < 2:
    st.stop()

st.subheader("Numbers")
table = pd.DataFrame([{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]).drop(columns=["model"])
table = table.dropna(axis="columns", how="all")     # e.g. no Σ KL when no model has a target ρ
st.dataframe(table, hide_index=True, width="stretch",
             column_config={"recon MSE": st.column_config.NumberColumn(format="%.4f"),
                            "mean activation": st.column_config.NumberColumn(format="%.3f"),
                            "mean |z|₁": st.column_config.NumberColumn(format="%.2f"),
                            "mean L0": st.column_config.NumberColumn(format="%.1f"),
                            "dead fraction": st.column_config.NumberColumn(format="percent"),
                            "Σ KL(ρ‖ρ̂)": st.column_config.NumberColumn(format="%.3f"),
                            "train seconds": st.column_config.NumberColumn(format="%.1f")})
st.download_button("Download table (CSV)", table.to_csv(index=False), file_name="comparison.csv", mime="text/csv",
                   icon=":material/download:")

x_key = st.segmented_control("Sparsity measured as", ["mean L0", "mean |z|₁", "mean activation"], default="mean L0",
                             key="cmp_x", required=True)
st.plotly_chart(tradeoff(rows, x_key), config=PLOTLY_CONFIG, key="tradeoff")
st.caption("Lower-left is better on both counts. Along a sweep, the curve shows how much reconstruction each "
           "step of sparsity costs — pick the setting where it starts to rise steeply.")

st.subheader("The same test images, reconstructed by each model")
shown = pick_indices(data.test_y, 8, seed=st.session_state.get("cmp_seed", 0))
x = data.test_x[shown]
columns = st.columns(len(models) + 1)
columns[0].image(tiles_png(x.cpu().numpy(), data.image_shape, ncols=1, scale=3), caption="original", width=84)
for column, (name, (_, model, _)) in zip(columns[1:], models.items()):
    rec = reconstruction_rows(model, x)
    column.image(tiles_png(rec.reconstruction, data.image_shape, ncols=1, scale=3),
                 caption=f"{name} · MSE {rec.mse.mean():.4f}", width=84)
if st.button("Other images", icon=":material/shuffle:"):
    st.session_state["cmp_seed"] = st.session_state.get("cmp_seed", 0) + 1
    st.rerun()

st.subheader("How the units behave")
which = st.segmented_control("Distribution of", ["firing rate", "mean activation"], default="firing rate",
                             key="cmp_dist", required=True)
series = {r["setting"]: np.asarray(r["_metrics"]["unit_firing_rate" if which == "firing rate" else "unit_mean_activation"])
          for r in rows}
st.plotly_chart(overlaid_histograms(series, f"Per-unit {which}, all models overlaid", which,
                                    log_x=which == "firing rate"), config=PLOTLY_CONFIG, key="dists")
if which == "firing rate":
    st.caption("Dead units (firing rate 0) cannot be drawn on a log axis; the table counts them.")

st.subheader("Encoder filters, most active units first")
per_row = 3
names = list(models)
for start in range(0, len(names), per_row):
    for column, name in zip(st.columns(per_row), names[start:start + per_row]):
        key, model, _ = models[name]
        order = np.argsort(-np.asarray(next(r for r in rows if r["setting"] == name)["_metrics"]["unit_firing_rate"]),
                           kind="stable")
        filters = filters_as_images(st_cache.encoder_filters(key, model))[order][:64]
        column.image(tiles_png(filters, data.image_shape, ncols=8, scale=2), caption=name)

st.subheader("Loss curves")
histories = {name: meta.get("history") or {} for name, (_, _, meta) in models.items()}
if any(h.get("epoch") for h in histories.values()):
    st.plotly_chart(overlaid_curves(histories, "recon"), config=PLOTLY_CONFIG, key="curves")
else:
    st.caption("These models carry no training history.")
