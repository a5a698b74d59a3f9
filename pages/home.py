"""Home: what this is, the device, the dataset, the active model and where to go next."""
import explorer.app.preload  # noqa: F401  — first: see its docstring

import streamlit as st

from explorer.app import caches, links, models
from explorer.app.legacy_pages import leave_legacy_pages_mode
from explorer.app.navigation import page_file
from explorer.app.page import active_context, header
from explorer.figures import rows_png
from explorer.views import pick_indices, reconstruction_rows

leave_legacy_pages_mode()
link_slot = header("Autoencoder Explorer")
st.markdown(
    "Train or load autoencoders — **plain, sparse (L1 and KL), denoising, contractive, variational**, and "
    "the modern sparse autoencoders **TopK, BatchTopK, JumpReLU, Matryoshka and matching pursuit** — and *see* "
    "what they learn: how well they reconstruct, which hidden units fire and how often, what each unit adds to "
    "the picture, and where the digits fall in the code. Everything runs on this machine, offline.")

ctx = active_context()
if ctx is None:
    st.stop()

metrics = caches.metrics(ctx.key, ctx.model, ctx.data.name, ctx.device)
code = metrics.code
variant = type(ctx.model)
cols = st.columns(6)
cols[0].metric("Active model", ctx.model.name, help=ctx.entry.label)
cols[1].metric("Test MSE", f"{metrics.recon_mse:.4f}",
               help="Reconstruction error: mean squared error per pixel on the clean test images")
cols[2].metric("Variance explained", f"{metrics.explained_variance:.1%}",
               help=f"1 − FVU; FVU = Σ‖x − x̂‖² / Σ‖x − x̄‖² over the test split = {metrics.fvu:.3f}")
cols[3].metric("L0 (active units)", f"{code.mean_l0:.1f} / {len(code.unit_firing_rate)}",
               help=f"Active units per image, averaged. A unit of this {variant.code.name} code is active when "
                    f"{code.active_when}.")
cols[4].metric("Dead units", f"{code.dead_fraction:.0%}", help=f"Never active on the test split ({code.active_when})")
cols[5].metric("Device", ctx.device)
if own := [f"{m.title}: {metrics.extras[m.name]:.4g}" for m in variant.extra_metrics if not m.per_unit]:
    st.caption("This variant also measures — " + " · ".join(own))
if metrics.learned_nothing_reason:
    st.warning(metrics.learned_nothing_reason, icon=":material/warning:")

st.subheader(f"{variant.summary}")
st.caption(f"{ctx.entry.label}: {ctx.model.describe_decoder()}.")
st.latex(variant.objective_latex)
if variant.paper:
    st.caption(f"From: {variant.paper}")
x = ctx.data.test_x[pick_indices(ctx.data.test_y, 12, seed=0)]
rows = reconstruction_rows(ctx.model, x)
st.image(rows_png([rows.original, rows.reconstruction], ctx.data.image_shape, scale=4),
         caption=f"Top: test images from {ctx.data.name} · Bottom: what {ctx.entry.label} reconstructs")

st.subheader("Where to go next")
link_cols = st.columns(3)
link_cols[0].page_link(page_file("train"), label="Train a model live", icon=":material/model_training:")
link_cols[0].page_link(page_file("reconstructions"), label="Inspect reconstructions and errors",
                       icon=":material/compare:")
link_cols[1].page_link(page_file("activations"), label="See which units fire, and how sparsely",
                       icon=":material/bar_chart:")
link_cols[1].page_link(page_file("latent"), label="Map the latent space", icon=":material/scatter_plot:")
link_cols[2].page_link(page_file("compare"), label="Compare sparsity settings side by side",
                       icon=":material/view_column:")
link_cols[2].markdown("Pick another model, dataset or device in the sidebar.")

st.subheader("Models available in this session")
st.dataframe(
    [{"model": e.label, "variant": e.variant, "dataset": e.dataset, "source": e.source,
      "active": "●" if e.key == ctx.key else ""} for e in models.model_entries().values()],
    hide_index=True, width="stretch")
data_info = f"{ctx.data.name}: {len(ctx.data.train_x):,} train / {len(ctx.data.test_x):,} test images of " \
            f"{ctx.data.image_shape[0]}×{ctx.data.image_shape[1]} pixels, held on {ctx.device}."
st.caption(data_info)
links.publish("home", {}, link_slot)
