"""Latent space: maps of the codes (PCA / t-SNE / UMAP / raw), selections, neighbours, decoded paths,
and the VAE's generative views; exports for the Embedding Projector. A click on the map chooses the
image the neighbours and the walk are about; the drawing pad sits beside the map its star lands on."""
import explorer.app.preload  # noqa: F401  — first: see its docstring

from collections.abc import Iterator
from functools import partial

import numpy as np
import streamlit as st

from explorer.app import caches, hover_images, keys, latent_choices, links, page, sketch
from explorer.figures import PLOTLY_CONFIG, class_mix, latent_map, latent_map_png, tiles_png, variance_bars
from explorer.i18n import N_, tr
from explorer.latent import (
    TSNE_ITERATIONS,
    ImageRef,
    Projection,
    class_of,
    codes_csv,
    image_name,
    image_of,
    interpolate,
    manifold_grid,
    map_caption,
    neighbours_of,
    place,
    prior_samples,
    projector_metadata,
    projector_vectors,
    traversal,
    umap_available,
)
from explorer.tsne import stage as tsne_stage

ctx = page.model_page(tr("Latent space"))
data, model = ctx.data, ctx.model
k = model.config.latent_dim
names = data.class_names

methods = ["pca", "tsne"] + (["umap"] if umap_available() else []) + (["raw"] if k <= 3 else [])
labels = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP", "raw": N_("raw code")}     # shown as tr(label)
links.preset("lat_method", "map", links.one_of(methods), tr("map"))
links.preset("lat_source", "images", links.one_of(["all", "test"]), tr("images"))
links.preset("lat_seed", "seed", links.int_in(0, 10_000), tr("seed"))
st.session_state.setdefault("lat_method", "raw" if k == 2 else "pca")
st.session_state.setdefault("lat_seed", 0)
# One wrapping row, each control at its own width: one line at 1400 px, two on a projector, none cut.
row = st.container(horizontal=True, vertical_alignment="bottom", gap="medium")
method_help = [tr("PCA: the codes' directions of most variance."),
               tr("t-SNE and UMAP: neighbours kept together, distances between clusters not kept.")
               if "umap" in methods else tr("t-SNE: neighbours kept together, distances between clusters not kept.")]
if "raw" in methods:
    method_help.append(tr("Raw code: the code's own {k} coordinates, nothing computed.", k=k))
# The options' names translated now, in the run (AppTest calls a format_func after it, outside any run).
method_names = {m: tr(labels[m]) for m in methods}
method = row.segmented_control(tr("Map"), methods, format_func=method_names.__getitem__, key="lat_method",
                               required=True, help=" ".join(method_help)) or methods[0]    # required: never None
sources = {"all": N_("train + test"), "test": N_("test only")}
source_names = {s: tr(label) for s, label in sources.items()}
source = row.selectbox(tr("Images"), ["all", "test"], key="lat_source", width=150,
                       format_func=source_names.__getitem__,
                       help=tr("Map a sample of the training and test images, or of the test split only."))
pool = len(data.test_x) + (len(data.train_x) if source == "all" else 0)
points_key = f"lat_n_{source}_{data.name}"
links.preset(points_key, "points", links.int_in(min(100, pool), pool), tr("number of points"))
st.session_state.setdefault(points_key, min(2000, pool))
n = row.slider(tr("Points"), min(100, pool), pool, step=100 if pool >= 200 else 1, key=points_key, width=220,
               help=tr("How many images the map shows: a seeded random sample of them."))
seed = int(row.number_input(tr("Seed"), 0, 10_000, key="lat_seed", width=110,
                            help=tr("Draws the sample, and seeds t-SNE and UMAP: the same seed, the same map.")))
three_d = row.toggle("3-D", key="lat_3d", disabled=(method == "raw" and k < 3),
                     help=tr("3-D maps rotate; selection and clicks work in 2-D."))
dims = 3 if three_d and not (method == "raw" and k < 3) else 2
perplexity, iterations = 30.0, TSNE_ITERATIONS
if method == "tsne":
    with st.expander(tr("t-SNE settings")):
        perplexity = float(st.slider(tr("Perplexity"), 5, 100, 30, key="lat_perplexity",
                                     help=tr("Roughly how many neighbours each point pays attention to.")))
        iterations = int(st.slider(tr("Iterations"), 250, 2000, TSNE_ITERATIONS, step=250, key="lat_iterations"))

sample = caches.code_sample(ctx.key, model, data.name, ctx.device, n, source, seed)
about_point = tr("{image} · class {name}")         # filled below for each point: one lookup, not 2,000
hover = [about_point.format(image=image_name(split, idx), name=names[y])
         for split, idx, y in zip(sample.split, sample.index, sample.labels, strict=True)]


def map_title(chosen: str) -> tuple[str, tuple[str, ...]]:
    axis = {"pca": ("PC1", "PC2", "PC3"), "raw": ("z₀", "z₁", "z₂")}.get(
        chosen, (f"{labels[chosen]} 1", f"{labels[chosen]} 2", f"{labels[chosen]} 3"))
    return tr("{method} of {count:,} codes ({k}-D) from {model}", method=tr(labels[chosen]), count=len(sample), k=k,
              model=ctx.entry.label), axis


def maps_of(chosen: str) -> Iterator[Projection]:
    return caches.projections(ctx.key, data.name, ctx.device, n, source, seed, chosen, dims, perplexity, iterations,
                              sample.codes)


notice = st.empty()                  # a warning about the map, above it
# The pad, when open, beside the map its star lands on: a wider column for it then.
left, right = st.columns([2.2, 1] if sketch.pad_open("sketch_lat") else [3, 1], gap="medium")
slot = left.empty()                  # t-SNE's maps on the way are drawn here, then the final one
about = left.empty()                 # what the map on screen is: one on its way, or the one kept
pad = right.container()              # the drawing pad (sketch.panel, below)
beside = right.empty()               # the map's own notes and exports: cleared while a new map is made
try:
    for proj in maps_of(method):
        if not proj.final and proj.iteration is not None and proj.iterations:
            with slot.container():      # a picture: swapped in at once, where a new Plotly chart takes seconds
                seen_as = map_title(method)[0]
                if dims == 3:
                    seen_as = tr("{title} · its first two axes", title=seen_as)
                st.image(latent_map_png(proj.coords, sample.labels, names, seen_as), width="stretch")
                st.progress(proj.iteration / proj.iterations,
                            text=tr("{method}, iteration {iteration} of {iterations}: {stage}",
                                    method=tr(labels[method]), iteration=proj.iteration,
                                    iterations=proj.iterations, stage=tsne_stage(proj.iteration, proj.iterations)))
            about.caption(map_caption(proj, perplexity) or "")
except ValueError as exc:               # e.g. every code identical: nothing for t-SNE or UMAP to spread out
    notice.warning(tr("{problem}. Showing PCA instead.", problem=exc), icon=":material/warning:")
    method, proj = "pca", next(maps_of("pca"))
links.publish("latent", {"map": method, "images": source, "points": n, "seed": seed}, ctx.link_slot)

title, axis = map_title(method)
drawing = sketch.current_drawing(data.image_shape)            # a digit drawn beside, marked on the map
marked, placed_how = None, ""
if drawing is not None:
    drawn_code = model.encode_all(data.test_x.new_tensor(drawing)[None]).cpu().numpy()
    marked, placed_how = place(proj, sample.codes, drawn_code)
# A 2-D code's own plane: anywhere the pointer goes, the decoder's picture of that point (a decoded grid).
plane = caches.decoded_plane(ctx.key, model, data.name, ctx.device, n, source, seed, proj.coords) \
    if method == "raw" and dims == 2 else None
event = slot.plotly_chart(latent_map(proj.coords, sample.labels, names, hover, title, axis, marked,
                                     tr("your digit, placed {how}", how=placed_how),
                                     None if plane is None else plane.points),
                          config=PLOTLY_CONFIG, key=f"lat_map_{dims}", on_select="rerun",
                          selection_mode=("points", "box", "lasso"))
with left:
    shown_images = sample.images if plane is None else np.concatenate([sample.images, plane.images])
    thumbnails = hover_images.attach(f"lat_map_{dims}", shown_images, data.image_shape,
                                     (ctx.key, data.name, ctx.device, n, source, seed, plane is not None))
    if plane is not None and thumbnails:
        st.caption(tr("Move the pointer anywhere on the plane: over a point, its image; between them, the "
                      "decoder's picture of that place in the code (a grid of {count:,} decoded codes).",
                      count=len(plane.points)))
if (kept := map_caption(proj, perplexity)) is not None:
    about.caption(kept)
if drawing is not None:
    left.caption(tr("★ Your digit is placed {how}.", how=placed_how))
with beside.container():
    if proj.explained_variance is not None:
        shown = proj.explained_variance[:dims].sum()
        st.caption(tr("The map shows {shown:.0%} of the codes' variance ({parts}).", shown=shown,
                      parts=", ".join(f"PC{i + 1} {v:.0%}" for i, v in enumerate(proj.explained_variance[:dims]))))
        # on request: a second Plotly chart on arrival costs a fresh browser time (bench/page_weight.py)
        if st.toggle(tr("Variance bars"), key="lat_variance", wrap=True, help=tr("The variance of each PCA component")):
            st.plotly_chart(variance_bars(proj.explained_variance), config=PLOTLY_CONFIG, key="variance")
    how_to = tr("Click a point: it is chosen for the neighbours and the walk below. The lasso or box tool above the "
                "map: many images at once (the pan tool to click again). A legend entry: click to hide its class, "
                "double-click to show only it.")
    st.caption(tr("Hover over a point: its image.") + " " + how_to if thumbnails else how_to)
    # Written when clicked (Streamlit's deferred downloads), not at every run and sent with every page.
    st.download_button("codes.csv", partial(codes_csv, sample, names, proj.coords),
                       file_name=f"codes-{model.name}.csv", mime="text/csv", icon=":material/download:",
                       width="stretch", help=tr("The codes and their places on the map, one line per image: split, "
                                                "index, class, x, y, code_0, code_1, …"))
    st.download_button("vectors.tsv", partial(projector_vectors, sample), file_name="vectors.tsv",
                       mime="text/tab-separated-values", icon=":material/download:", width="stretch",
                       help=tr("For projector.tensorflow.org (Load → vectors)"))
    st.download_button("metadata.tsv", partial(projector_metadata, sample, names), file_name="metadata.tsv",
                       mime="text/tab-separated-values", icon=":material/download:", width="stretch",
                       help=tr("For projector.tensorflow.org (Load → metadata)"))

selection = event.get("selection") if event else None       # points clicked, boxed or lassoed
latent_choices.start(data)
clicked = latent_choices.follow_clicks(selection, sample, data, f"lat_map_{dims}")
sketch.panel(ctx, "sketch_lat", beside=pad)


def about_image(ref: ImageRef) -> str:
    return tr("{image} · class {name}", image=ref, name=names[class_of(data, ref)])


selected = [] if latent_choices.clicked_rows(selection) else sorted(
    {int(p["customdata"]) for p in (selection.get("points", []) if selection else []) if "customdata" in p})
st.subheader(tr("Selection"))
if clicked is not None:
    st.caption(tr("You clicked {image}: its neighbours and a walk to it are below. The lasso or box tool above the "
                  "map selects many images at once.", image=about_image(clicked)))
if selected:
    c1, c2 = st.columns([3, 1])
    # The sample is ordered by split and index (and mnist-5k by class): show a seeded random 96.
    shown_rows = np.random.default_rng(0).permutation(selected)[:96] if len(selected) > 96 else selected
    c1.image(tiles_png(sample.images[shown_rows], data.image_shape, ncols=16, scale=3),
             caption=tr("{count} selected (a random 96 shown)", count=len(selected)) if len(selected) > 96
             else tr("{count} selected", count=len(selected)))
    c2.plotly_chart(class_mix(sample.labels[selected], names), config=PLOTLY_CONFIG, key="mix")
elif clicked is None:
    st.caption(tr("Nothing selected yet: click a point on the map, or pick the lasso or box tool above it and "
                  "draw around many."))

st.subheader(tr("Neighbours in the code"))
c1, c2 = st.columns([1, 4])
chosen = latent_choices.number_box(c1, tr("Test image no."), latent_choices.CHOSEN, data,
                                   help=tr("A click on the map chooses an image; here, a test image by its number."))
chosen_image = image_of(data, chosen)
neighbours, distances = neighbours_of(sample, model.encode_all(chosen_image[None]).cpu().numpy()[0], chosen, 10)
c1.image(tiles_png(chosen_image[None].cpu().numpy(), data.image_shape, ncols=1, scale=5), caption=about_image(chosen))
nearest = ", ".join(f"{names[sample.labels[j]]} ({d:.2f})" for j, d in zip(neighbours, distances, strict=True))
c2.image(tiles_png(sample.images[neighbours], data.image_shape, ncols=10, scale=3),
         caption=tr("The 10 images of the map nearest to {image} in code space, nearest first: {nearest}",
                    image=chosen, nearest=nearest))

st.subheader(tr("Walking between two images"))
st.caption(tr("A click on the map makes its image the walk's end, and the end before it the walk's start."))
c1, c2, c3 = st.columns(3)
start = latent_choices.number_box(c1, tr("From: test image no."), latent_choices.START, data,
                                  help=tr("The image the walk starts from: the one clicked before the last, or a test "
                                          "image by its number."))
end = latent_choices.number_box(c2, tr("To: test image no."), latent_choices.END, data,
                                help=tr("The image the walk ends at: the last one clicked, or a test image by its "
                                        "number."))
steps = int(c3.slider(tr("Steps"), 3, 16, 10, key="lat_steps", help=tr("Decoded images between the two ends")))
ends = [image_of(data, start), image_of(data, end)]
path = interpolate(model, ends[0], ends[1], steps)
strip = np.concatenate([ends[0][None].cpu().numpy(), path, ends[1][None].cpu().numpy()])
st.image(tiles_png(strip, data.image_shape, ncols=len(strip), scale=4),
         caption=tr("Left: {start} · then the decoded straight line between their codes · right: {end}",
                    start=about_image(start), end=about_image(end)))

if model.generative:
    st.subheader(tr("Generating: the prior, the manifold and traversals"))
    # Below the fold: drawn on request, so a first visit (and every rerun a lasso makes) skips the decoding
    # and the three images.
    if st.toggle(tr("Show samples from the prior, the manifold grid and traversals"), key="lat_generate",
                 help=tr("Images the decoder makes from codes of its own choosing: the VAE as a generator.")):
        c1, c2 = st.columns([1, 1])
        if c1.button(tr("New samples"), icon=":material/casino:"):
            page.next_seed(keys.PRIOR_SEED)
        samples = prior_samples(model, 48, page.seed(keys.PRIOR_SEED))
        c1.image(tiles_png(samples, data.image_shape, ncols=8, scale=3),
                 caption=tr("48 images decoded from z ~ N(0, I)"))
        dim_x = c2.selectbox(tr("Manifold: horizontal latent dimension"), range(k), index=0, key="lat_mx")
        dim_y = c2.selectbox(tr("Manifold: vertical latent dimension"), range(k), index=1 if k > 1 else 0,
                             key="lat_my")
        if k >= 2 and dim_x != dim_y:
            grid_n = 15
            manifold = manifold_grid(model, (dim_x, dim_y), grid_n)
            c2.image(tiles_png(manifold, data.image_shape, ncols=grid_n, scale=2),
                     caption=tr("Decoded grid over z{x} (left → right) and z{y} (bottom → top) from −2.5 to 2.5, "
                                "other dimensions at 0 — the Kingma & Welling figure", x=dim_x, y=dim_y))
        else:
            c2.info(tr("Pick two different dimensions for the manifold."))
        c1, c2 = st.columns([1, 3])
        dim = int(c1.selectbox(tr("Traverse dimension"), range(k), key="lat_tdim"))
        values = np.linspace(-3, 3, 13)
        swept = traversal(model, chosen_image, dim, values)
        c2.image(tiles_png(swept, data.image_shape, ncols=len(values), scale=4),
                 caption=tr("The chosen image ({image}) with z{dim} swept from −3 to 3, the rest of its code fixed",
                            image=about_image(chosen), dim=dim))
