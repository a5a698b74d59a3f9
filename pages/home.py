"""Home: what this is, the device, the dataset, the active model and where to go next."""
import explorer.app.preload  # noqa: F401  — first: see its docstring

import streamlit as st

from explorer import activations
from explorer.app import caches, links, models
from explorer.app.catalog import SOURCE_WORDS
from explorer.app.legacy_pages import leave_legacy_pages_mode
from explorer.app.navigation import page_file
from explorer.app.page import active_context, header
from explorer.figures import rows_png
from explorer.i18n import N_, tr
from explorer.views import pick_indices, reconstruction_rows

leave_legacy_pages_mode()
link_slot = header("Autoencoder Explorer")    # the product's name, in every language
st.markdown(tr(
    "Train or load autoencoders — **plain, sparse (L1 and KL), denoising, contractive, variational**, and "
    "the modern sparse autoencoders **TopK, BatchTopK, JumpReLU, Matryoshka and matching pursuit** — and *see* "
    "what they learn: how well they reconstruct, which hidden units fire and how often, what each unit adds to "
    "the picture, and where the digits fall in the code. Everything runs on this machine, offline."))

ctx = active_context()
if ctx is None:
    st.stop()

metrics = caches.metrics(ctx.key, ctx.model, ctx.data.name, ctx.device)
code = metrics.code
variant = type(ctx.model)
active_when = activations.describe(variant.code, code.threshold)    # '|z_j| > 0', in the reader's words
# One wrapping row, each metric as wide as its label: six side by side at 1400 px, two rows on a projector.
row = st.container(horizontal=True, gap="small")
row.metric(tr("Active model"), ctx.model.name, help=ctx.entry.label, width="content")
row.metric(tr("Test MSE"), f"{metrics.recon_mse:.4f}", width="content",
           help=tr("Reconstruction error: mean squared error per pixel on the clean test images"))
row.metric(tr("Variance explained"), f"{metrics.explained_variance:.1%}", width="content",
           help=tr("1 − FVU; FVU = Σ‖x − x̂‖² / Σ‖x − x̄‖² over the test split = {fvu:.3f}", fvu=metrics.fvu))
row.metric(tr("L0 (active units)"), f"{code.mean_l0:.1f} / {len(code.unit_firing_rate)}", width="content",
           help=tr("Active units per image, averaged. A unit of this {code} code is active when {active_when}.",
                   code=activations.code_name(variant.code), active_when=active_when))
row.metric(tr("Dead units"), f"{code.dead_fraction:.0%}", width="content",
           help=tr("Never active on the test split ({active_when})", active_when=active_when))
row.metric(tr("Device"), ctx.device, width="content")
if own := [tr("{title}: {value:.4g}", title=tr(m.title), value=metrics.extras[m.name])
           for m in variant.extra_metrics if not m.per_unit]:
    st.caption(tr("This variant also measures — {measures}", measures=" · ".join(own)))
if metrics.learned_nothing:
    st.warning(metrics.learned_nothing_text(), icon=":material/warning:")

st.subheader(tr(variant.summary))
st.caption(tr("{model}: {decoder}.", model=ctx.entry.label, decoder=tr(ctx.model.describe_decoder())))
st.latex(variant.objective_latex)
if variant.paper:
    st.caption(tr("From: {paper}", paper=variant.paper))
x = ctx.data.test_x[pick_indices(ctx.data.test_y, 12, seed=0)]
rows = reconstruction_rows(ctx.model, x)
st.image(rows_png([rows.original, rows.reconstruction], ctx.data.image_shape, scale=4),
         caption=tr("Top: test images from {dataset} · Bottom: what {model} reconstructs", dataset=ctx.data.name,
                    model=ctx.entry.label))

st.subheader(tr("Where to go next"))
destinations = st.container(horizontal=True, gap="medium")    # wraps on a narrow screen, never cuts a label
for name, label, icon in (("train", N_("Train a model live"), ":material/model_training:"),
                          ("reconstructions", N_("Inspect reconstructions and errors"), ":material/compare:"),
                          ("activations", N_("See which units fire, and how sparsely"), ":material/bar_chart:"),
                          ("latent", N_("Map the latent space"), ":material/scatter_plot:"),
                          ("compare", N_("Compare sparsity settings side by side"), ":material/view_column:"),
                          ("claims", N_("Test the seed notes' claims"), ":material/fact_check:")):
    destinations.page_link(page_file(name), label=tr(label), icon=icon)
st.caption(tr("Pick another model, dataset or device in the sidebar."))

st.subheader(tr("Models available in this session"))
columns = {"model": tr("model"), "variant": tr("variant"), "dataset": tr("dataset"), "source": tr("source"),
           "active": tr("active")}
st.dataframe(
    [{columns["model"]: e.label, columns["variant"]: e.variant, columns["dataset"]: e.dataset,
      columns["source"]: tr(SOURCE_WORDS.get(e.source, e.source)), columns["active"]: "●" if e.key == ctx.key else ""}
     for e in models.model_entries().values()],
    hide_index=True, width="stretch")
data_info = tr("{dataset}: {train:,} train / {test:,} test images of {height}×{width} pixels, held on {device}.",
               dataset=ctx.data.name, train=len(ctx.data.train_x), test=len(ctx.data.test_x),
               height=ctx.data.image_shape[0], width=ctx.data.image_shape[1], device=ctx.device)
st.caption(data_info)
links.publish("home", {}, link_slot)
