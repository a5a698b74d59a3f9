"""Reconstructions: originals over reconstructions, noise at inference, per-class and per-pixel error."""
import explorer.app.preload  # noqa: F401  — first: see its docstring

import streamlit as st

from explorer.app import caches, keys, links, page, sketch
from explorer.figures import PLOTLY_CONFIG, error_views, rows_png
from explorer.i18n import N_, tr
from explorer.noise import NOISE_TYPES, NoiseSetting, noise_label
from explorer.views import pick_indices, reconstruction_rows

NOISE_CHOSEN_FOR = "rec_noise_model"    # the model whose page the noise choice was made on

ctx = page.model_page(tr("Reconstructions"))
data, model = ctx.data, ctx.model
st.caption(tr("{model} on the {dataset} test split ({count:,} images)", model=ctx.entry.label, dataset=data.name,
              count=len(data.test_x)))

trained_noise = model.training_noise()     # a denoiser opens on the corruption it was trained for
# The noise choice belongs to one model: another active model (picked in the sidebar while this page is
# open) opens on its own training noise and level; the student's choice stays while the model does.
if st.session_state.get(NOISE_CHOSEN_FOR) != ctx.key or "rec_noise" not in st.session_state:
    st.session_state[NOISE_CHOSEN_FOR] = ctx.key
    st.session_state["rec_noise"] = trained_noise.kind if trained_noise else "none"
    for kind in NOISE_TYPES:
        st.session_state.pop(f"rec_level_{kind}", None)
links.preset("rec_classes", "classes", links.list_of(links.int_in(0, len(data.class_names) - 1)),
             N_("classes"))
links.preset("rec_noise", "noise", links.one_of(["none", *NOISE_TYPES]), N_("noise"))     # a link's noise wins
c1, c2, c3, c4 = st.columns([1, 2, 1.4, 1.2], vertical_alignment="bottom")
count = c1.slider(tr("Images"), 4, 48, 16, step=4, key="rec_count")
classes = c2.multiselect(tr("Only these classes"), list(range(len(data.class_names))), key="rec_classes",
                         format_func=lambda c: data.class_names[c], placeholder=tr("all classes"))
noise = c3.selectbox(tr("Noise at inference"), ["none", *NOISE_TYPES], key="rec_noise", format_func=noise_label,
                     help=tr("Corrupt the input before encoding: the denoising AE was trained for this; "
                             "other models show how robust they are."))
if c4.button(tr("Reshuffle"), icon=":material/shuffle:"):
    page.next_seed(keys.RECONSTRUCTIONS_SEED)
seed = page.seed(keys.RECONSTRUCTIONS_SEED)
setting = None
if noise != "none":
    links.preset(f"rec_level_{noise}", "level", links.float_in(0.0, 1.0), N_("noise level"))
    st.session_state.setdefault(f"rec_level_{noise}", min(trained_noise.level if trained_noise else 0.3, 1.0))
    level = st.slider(tr("Noise level (σ for Gaussian, fraction of pixels otherwise)"), 0.0, 1.0, step=0.05,
                      key=f"rec_level_{noise}")
    setting = NoiseSetting(noise, float(level))
links.publish("reconstructions", {"classes": classes, "noise": noise,
                                  "level": setting.level if setting else None}, ctx.link_slot)

indices = pick_indices(data.test_y, count, seed, classes)
rows = reconstruction_rows(model, data.test_x[indices], setting, seed)
if rows.noisy is not None:   # the seed's denoising figure: noisy / denoised / original
    strip = [rows.noisy, rows.reconstruction, rows.original]
    caption = tr("Top: noisy input · Middle: denoised · Bottom: original")
else:
    strip, caption = [rows.original, rows.reconstruction], tr("Top: original · Bottom: reconstruction")
png = rows_png(strip, data.image_shape, scale=4)
st.image(png, caption=tr("{caption} · mean MSE of these {count}: {mse:.4f}", caption=caption, count=len(indices),
                         mse=rows.mse.mean()), width="stretch")
st.download_button(tr("Download PNG"), png, file_name=f"reconstructions-{model.name}.png", mime="image/png",
                   icon=":material/download:")

summary = caches.error_summary(ctx.key, model, data.name, ctx.device, setting, 0)
st.plotly_chart(error_views(summary.per_class, summary.pixel_map), config=PLOTLY_CONFIG, key="errors")

st.subheader(tr("Worst-reconstructed test images"))
st.caption(tr("Each tile: the original (top), the noisy input the model saw (middle) and its reconstruction "
              "(bottom); MSE against the original.") if summary.noisy else
           tr("Each tile: the original (top) over its reconstruction (bottom)."))
worst = summary.worst[:12]
captions = [f"#{int(i)} · {data.class_names[int(data.test_y[i])]} · MSE {summary.per_image[i]:.3f}" for i in worst]
tiles = [rows_png(summary.worst_rows(slice(j, j + 1)), data.image_shape, scale=4) for j in range(len(worst))]
# Six to a row on a laptop's screen; a three-image tile narrower, about as tall as a two-image one.
st.image(tiles, caption=captions, width=100 if summary.noisy else 140)
worst_png = rows_png(summary.worst_rows(slice(0, 12)), data.image_shape, scale=4)
st.download_button(tr("Download worst images (PNG)"), worst_png, file_name=f"worst-{model.name}.png", mime="image/png",
                   icon=":material/download:")

sketch.panel(ctx, "sketch_rec", setting)
