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
# One wrapping row, each metric as wide as its label: six side by side at 1400 px, two rows on a projector.
row = st.container(horizontal=True, gap="small")
row.metric("Active model", ctx.model.name, help=ctx.entry.label, width="content")
row.metric("Test MSE", f"{metrics.recon_mse:.4f}", width="content",
           help="Reconstruction error: mean squared error per pixel on the clean test images")
row.metric("Variance explained", f"{metrics.explained_variance:.1%}", width="content",
           help=f"1 − FVU; FVU = Σ‖x − x̂‖² / Σ‖x − x̄‖² over the test split = {metrics.fvu:.3f}")
row.metric("L0 (active units)", f"{code.mean_l0:.1f} / {len(code.unit_firing_rate)}", width="content",
           help=f"Active units per image, averaged. A unit of this {variant.code.name} code is active when "
                f"{code.active_when}.")
row.metric("Dead units", f"{code.dead_fraction:.0%}", width="content",
           help=f"Never active on the test split ({code.active_when})")
row.metric("Device", ctx.device, width="content")
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
destinations = st.container(horizontal=True, gap="medium")    # wraps on a narrow screen, never cuts a label
for name, label, icon in (("train", "Train a model live", ":material/model_training:"),
                          ("reconstructions", "Inspect reconstructions and errors", ":material/compare:"),
                          ("activations", "See which units fire, and how sparsely", ":material/bar_chart:"),
                          ("latent", "Map the latent space", ":material/scatter_plot:"),
                          ("compare", "Compare sparsity settings side by side", ":material/view_column:"),
                          ("claims", "Test the seed notes' claims", ":material/fact_check:")):
    destinations.page_link(page_file(name), label=label, icon=icon)
st.caption("Pick another model, dataset or device in the sidebar.")

st.subheader("Models available in this session")
st.dataframe(
    [{"model": e.label, "variant": e.variant, "dataset": e.dataset, "source": e.source,
      "active": "●" if e.key == ctx.key else ""} for e in models.model_entries().values()],
    hide_index=True, width="stretch")
data_info = f"{ctx.data.name}: {len(ctx.data.train_x):,} train / {len(ctx.data.test_x):,} test images of " \
            f"{ctx.data.image_shape[0]}×{ctx.data.image_shape[1]} pixels, held on {ctx.device}."
st.caption(data_info)
links.publish("home", {}, link_slot)
