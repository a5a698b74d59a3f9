"""Latent space: maps of the codes (PCA / t-SNE / UMAP / raw), selections, neighbours, decoded paths,
and the VAE's generative views; exports for the Embedding Projector."""
import explorer.app.preload  # noqa: F401  — first: see its docstring

from collections.abc import Iterator
from functools import partial

import numpy as np
import streamlit as st

from explorer.app import caches, hover_images, keys, links, page, sketch
from explorer.figures import PLOTLY_CONFIG, class_mix, latent_map, latent_map_png, tiles_png, variance_bars
from explorer.latent import (
    TSNE_ITERATIONS,
    Projection,
    codes_csv,
    interpolate,
    manifold_grid,
    nearest_neighbours,
    place,
    prior_samples,
    projector_metadata,
    projector_vectors,
    traversal,
    umap_available,
)
from explorer.tsne import stage as tsne_stage

ctx = page.model_page("Latent space")
data, model = ctx.data, ctx.model
k = model.config.latent_dim
names = data.class_names

methods = ["pca", "tsne"] + (["umap"] if umap_available() else []) + (["raw"] if k <= 3 else [])
labels = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP", "raw": f"raw code ({k}-D)"}
links.preset("lat_method", "map", links.one_of(methods), "map")
links.preset("lat_source", "images", links.one_of(["all", "test"]), "images")
links.preset("lat_seed", "seed", links.int_in(0, 10_000), "seed")
st.session_state.setdefault("lat_method", "raw" if k == 2 else "pca")
st.session_state.setdefault("lat_seed", 0)
c1, c2, c3, c4, c5 = st.columns([1.4, 1.2, 1.6, 0.8, 0.8], vertical_alignment="bottom")
method = c1.segmented_control("Map", methods, format_func=labels.get, key="lat_method", required=True)
source = c2.selectbox("Images", ["all", "test"], key="lat_source",
                      format_func={"all": "train + test", "test": "test split only"}.get)
pool = len(data.test_x) + (len(data.train_x) if source == "all" else 0)
points_key = f"lat_n_{source}_{data.name}"
links.preset(points_key, "points", links.int_in(min(100, pool), pool), "number of points")
st.session_state.setdefault(points_key, min(2000, pool))
n = c3.slider("Points (seeded sample)", min(100, pool), pool, step=100 if pool >= 200 else 1, key=points_key)
seed = int(c4.number_input("Seed", 0, 10_000, key="lat_seed"))
three_d = c5.toggle("3-D", key="lat_3d", disabled=(method == "raw" and k < 3),
                    help="3-D maps rotate; selection works in 2-D.")
dims = 3 if three_d and not (method == "raw" and k < 3) else 2
perplexity, iterations = 30.0, TSNE_ITERATIONS
if method == "tsne":
    with st.expander("t-SNE settings"):
        perplexity = float(st.slider("Perplexity", 5, 100, 30, key="lat_perplexity",
                                     help="Roughly how many neighbours each point pays attention to."))
        iterations = int(st.slider("Iterations", 250, 2000, TSNE_ITERATIONS, step=250, key="lat_iterations"))

sample = caches.code_sample(ctx.key, model, data.name, ctx.device, n, source, seed)
hover = [f"{split} #{idx} · class {names[y]}"
         for split, idx, y in zip(sample.split, sample.index, sample.labels, strict=True)]


def map_title(chosen: str) -> tuple[str, tuple[str, ...]]:
    axis = {"pca": ("PC1", "PC2", "PC3"), "raw": ("z₀", "z₁", "z₂")}.get(
        chosen, (f"{labels[chosen]} 1", f"{labels[chosen]} 2", f"{labels[chosen]} 3"))
    return f"{labels[chosen]} of {len(sample):,} codes ({k}-D) from {ctx.entry.label}", axis


def maps_of(chosen: str) -> Iterator[Projection]:
    return caches.projections(ctx.key, data.name, ctx.device, n, source, seed, chosen, dims, perplexity, iterations,
                              sample.codes)


notice = st.empty()                  # a warning about the map, above it
left, right = st.columns([3, 1])
slot = left.empty()                  # t-SNE's maps on the way are drawn here, then the final one
try:
    for proj in maps_of(method):
        if not proj.final and proj.iteration is not None and proj.iterations:
            with slot.container():      # a picture: swapped in at once, where a new Plotly chart takes seconds
                seen_as = map_title(method)[0] + (" · its first two axes" if dims == 3 else "")
                st.image(latent_map_png(proj.coords, sample.labels, names, seen_as), width="stretch")
                st.progress(proj.iteration / proj.iterations,
                            text=f"{labels[method]}, iteration {proj.iteration} of {proj.iterations}: "
                                 f"{tsne_stage(proj.iteration, proj.iterations)}")
except ValueError as exc:               # e.g. every code identical: nothing for t-SNE or UMAP to spread out
    notice.warning(f"{exc}. Showing PCA instead.", icon=":material/warning:")
    method, proj = "pca", next(maps_of("pca"))
links.publish("latent", {"map": method, "images": source, "points": n, "seed": seed}, ctx.link_slot)

title, axis = map_title(method)
drawing = sketch.current_drawing(data.image_shape)            # a digit drawn below, marked on the map
marked, placed_how = None, ""
if drawing is not None:
    drawn_code = model.encode_all(data.test_x.new_tensor(drawing)[None]).cpu().numpy()
    marked, placed_how = place(proj, sample.codes, drawn_code)
event = slot.plotly_chart(latent_map(proj.coords, sample.labels, names, hover, title, axis, marked,
                                     f"your digit, placed {placed_how}"),
                          config=PLOTLY_CONFIG, key=f"lat_map_{dims}", on_select="rerun",
                          selection_mode=("points", "box", "lasso"))
with left:
    thumbnails = hover_images.attach(f"lat_map_{dims}", sample.images, data.image_shape,
                                     (ctx.key, data.name, ctx.device, n, source, seed))
if method == "tsne" and proj.iterations:
    left.caption(f"t-SNE (openTSNE) after {proj.iterations} iterations at perplexity {perplexity:g}, seeded: made "
                 "once and kept, so it shows at once next time, for everyone, even after a restart.")
if drawing is not None:
    left.caption(f"★ Your digit (drawn below) is placed {placed_how}.")
with right:
    if proj.explained_variance is not None:
        shown = proj.explained_variance[:dims].sum()
        st.caption(f"The map shows {shown:.0%} of the codes' variance ("
                   + ", ".join(f"PC{i + 1} {v:.0%}" for i, v in enumerate(proj.explained_variance[:dims])) + ").")
        # on request: a second Plotly chart on arrival costs a fresh browser time (bench/page_weight.py)
        if st.toggle("Variance per component", key="lat_variance"):
            st.plotly_chart(variance_bars(proj.explained_variance), config=PLOTLY_CONFIG, key="variance")
    st.caption(("Hover over a point to see its image; l" if thumbnails else "L")
               + "asso or box-select points to see their images; click a legend entry to hide a class; "
               "double-click it to show only that class.")
    # Written when clicked (Streamlit's deferred downloads), not at every run and sent with every page.
    st.download_button("Codes + map (CSV)", partial(codes_csv, sample, names, proj.coords),
                       file_name=f"codes-{model.name}.csv", mime="text/csv", icon=":material/download:",
                       width="stretch")
    st.download_button("vectors.tsv", partial(projector_vectors, sample), file_name="vectors.tsv",
                       mime="text/tab-separated-values", icon=":material/download:", width="stretch",
                       help="For projector.tensorflow.org (Load → vectors)")
    st.download_button("metadata.tsv", partial(projector_metadata, sample, names), file_name="metadata.tsv",
                       mime="text/tab-separated-values", icon=":material/download:", width="stretch",
                       help="For projector.tensorflow.org (Load → metadata)")

selected = sorted({int(p["customdata"]) for p in (event.selection.points if event and event.selection else [])
                   if "customdata" in p})
st.subheader("Selection")
if selected:
    c1, c2 = st.columns([3, 1])
    # The sample is ordered by split and index (and mnist-5k by class): show a seeded random 96.
    shown_rows = np.random.default_rng(0).permutation(selected)[:96] if len(selected) > 96 else selected
    c1.image(tiles_png(sample.images[shown_rows], data.image_shape, ncols=16, scale=3),
             caption=f"{len(selected)} selected" + (" (a random 96 shown)" if len(selected) > 96 else ""))
    c2.plotly_chart(class_mix(sample.labels[selected], names), config=PLOTLY_CONFIG, key="mix")
else:
    st.caption("Nothing selected yet: draw a lasso or a box on the map.")

st.subheader("Neighbours in the code")
c1, c2 = st.columns([1, 4])
query = int(c1.number_input("Point (row of the sample)", 0, len(sample) - 1, selected[0] if selected else 0,
                            key=f"lat_query_{selected[0] if selected else 0}",
                            help="Defaults to the first selected point."))
neighbours, distances = nearest_neighbours(sample.codes, query, 10)
c1.image(tiles_png(sample.images[[query]], data.image_shape, ncols=1, scale=5), caption=hover[query])
nearest = ", ".join(f"{names[sample.labels[j]]} ({d:.2f})" for j, d in zip(neighbours, distances, strict=True))
c2.image(tiles_png(sample.images[neighbours], data.image_shape, ncols=10, scale=3),
         caption=f"Its 10 nearest neighbours in code space, nearest first: {nearest}")

sketch.panel(ctx, "sketch_lat")

st.subheader("Walking between two images")
c1, c2, c3 = st.columns(3)
a = int(c1.number_input("From test image", 0, len(data.test_x) - 1, 0, key="lat_a"))
b = int(c2.number_input("To test image", 0, len(data.test_x) - 1, 1, key="lat_b"))
steps = int(c3.slider("Steps", 3, 16, 10, key="lat_steps"))
path = interpolate(model, data.test_x[a], data.test_x[b], steps)
strip = np.concatenate([data.test_x[[a]].cpu().numpy(), path, data.test_x[[b]].cpu().numpy()])
st.image(tiles_png(strip, data.image_shape, ncols=len(strip), scale=4),
         caption="Left: the first image · then the decoded straight line between their codes · right: the second image")

if model.generative:
    st.subheader("Generating: the prior, the manifold and traversals")
    # Below the fold: drawn on request, so a first visit (and every rerun a lasso makes) skips the decoding
    # and the three images.
    if st.toggle("Show samples from the prior, the manifold grid and traversals", key="lat_generate",
                 help="Images the decoder makes from codes of its own choosing: the VAE as a generator."):
        c1, c2 = st.columns([1, 1])
        if c1.button("New samples", icon=":material/casino:"):
            page.next_seed(keys.PRIOR_SEED)
        samples = prior_samples(model, 48, page.seed(keys.PRIOR_SEED))
        c1.image(tiles_png(samples, data.image_shape, ncols=8, scale=3), caption="48 images decoded from z ~ N(0, I)")
        dim_x = c2.selectbox("Manifold: horizontal latent dimension", range(k), index=0, key="lat_mx")
        dim_y = c2.selectbox("Manifold: vertical latent dimension", range(k), index=1 if k > 1 else 0, key="lat_my")
        if k >= 2 and dim_x != dim_y:
            grid_n = 15
            manifold = manifold_grid(model, (dim_x, dim_y), grid_n)
            c2.image(tiles_png(manifold, data.image_shape, ncols=grid_n, scale=2),
                     caption=f"Decoded grid over z{dim_x} (left → right) and z{dim_y} (bottom → top) from −2.5 to 2.5, "
                             f"other dimensions at 0 — the Kingma & Welling figure")
        else:
            c2.info("Pick two different dimensions for the manifold.")
        c1, c2 = st.columns([1, 3])
        dim = int(c1.selectbox("Traverse dimension", range(k), key="lat_tdim"))
        values = np.linspace(-3, 3, 13)
        row = traversal(model, data.test_x[a], dim, values)
        c2.image(tiles_png(row, data.image_shape, ncols=len(values), scale=4),
                 caption=f"Test image #{a} with z{dim} swept from −3 to 3, the rest of its code fixed")
