"""Activations & sparsity: what each code unit does, how often it fires, and the KL penalty per unit.

One view at a time (a segmented control, in the link as `view`): each view's charts are computed and
sent only when it is chosen, so a first visit loads one chart, not a dozen."""
import explorer.app.preload  # noqa: F401  — first: see its docstring

import math

import streamlit as st

from explorer.activations import code_name, describe, filters_as_images, measured, unit_order
from explorer.app import caches, keys, links, page, push_panel, sketch
from explorer.feature_figures import (
    balanced_columns,
    class_panels,
    clickable_sheet,
    feature_histogram,
    numbered_tiles,
)
from explorer.figures import (
    PLOTLY_CONFIG,
    UnitPanel,
    clickable_strip,
    code_bars,
    sparsity_distributions,
    tiles_png,
    unit_panels,
)
from explorer.i18n import N_, tr
from explorer.views import pick_indices

VIEWS = {"units": N_("Every unit's histogram"), "kl": N_("ρ̂ and KL per unit"), "firing": N_("Firing rates and L0"),
         "image": N_("One image's code"), "unit": N_("One unit"), "filters": N_("All filters")}
ORDERS = {"unit": N_("unit index"), "mean": N_("mean activation ρ̂"), "firing": N_("firing rate"), "kl": "KL(ρ‖ρ̂)"}
BIN_COLOURS = ("red", "orange", "green", "blue")     # the quantile bins' colours in the histogram, as markdown names
PARTNERS_PER_ROW = 4
SHEET_COLUMNS = 7        # tiles per row in "All filters": two sheets (420 px each) side by side at 1400 px wide


def open_unit(unit: int) -> None:
    """A partner's button or a clicked tile: show that unit's feature page (a callback, before the widgets)."""
    st.session_state[keys.ACTIVATIONS_UNIT] = unit
    st.session_state[keys.ACTIVATIONS_VIEW] = "unit"


def open_clicked(chart_key: str) -> None:
    points = st.session_state[chart_key].selection.points
    if points:
        open_unit(int(points[0]["customdata"]))


ctx = page.model_page(tr("Activations & sparsity"))
data, model = ctx.data, ctx.model
own_rho = model.target_firing_rate()
code = model.code
linked_unit = links.value("unit", links.int_in(0, model.config.latent_dim - 1), N_("unit"))
if linked_unit is not None:
    st.session_state[keys.ACTIVATIONS_UNIT] = linked_unit
    if "view" not in st.query_params:           # a link naming a unit opens on that unit
        st.session_state[keys.ACTIVATIONS_VIEW] = "unit"
links.preset(keys.ACTIVATIONS_VIEW, "view", links.one_of(list(VIEWS)), N_("view"))

with st.expander(tr("How to read this page"), icon=":material/help:"):
    st.markdown(tr(
        "- **Code unit** = one coordinate of the code *z*. Statistics are over the "
        "{count:,} test images.\n"
        "- **Histograms**: how each unit's activation is distributed. A sparse unit has a tall bar at 0 "
        "and a thin tail; a dead unit is a single bar at 0.\n"
        "- **ρ̂ⱼ (mean activation)** against the target **ρ**: the KL penalty of the sparse AE pulls every "
        "ρ̂ⱼ towards ρ; **KL(ρ‖ρ̂ⱼ)** is that penalty unit by unit, and its sum is what training adds (×β).\n"
        "- **Active / firing**: this model's code is {code}; a unit counts as active on an image when "
        "{rule}. The **firing rate** is the fraction of images on which it is active. *Dead* "
        "units never fire (wasted capacity; red in every per-unit chart); *always-on* units fire on every image "
        "(not selective; purple). The caption under each chart says what dead means for this code.\n"
        "- **L0**: how many units are active per image — small L0 is what 'sparse code' means.\n"
        "- **One unit** is a unit's feature page: its **decoder atom** (what it adds to the picture when it "
        "fires) beside its **encoder filter** (what it reads), its images from the strongest to the weakest "
        "activations, the classes it fires for, and the units it fires together with.\n"
        "- **Good sparsity** looks like: few dead units, firing rates clustered around a small value "
        "(e.g. ρ), small L0, and units whose top images share a stroke or a shape.",
        count=len(data.test_x), code=code_name(code), rule=describe(code)))

c1, c2, c3, c4 = st.columns([1.2, 0.9, 1.2, 1.3], vertical_alignment="bottom")
choices = sorted({*code.choices, code.threshold})
threshold = c1.select_slider(tr("Activity threshold"), choices, value=code.threshold, format_func=lambda v: f"{v:g}",
                             key=f"act_threshold_{code.name}",
                             help=tr("A unit is active on an image when {measured} exceeds this. "
                                     "`evaluate` uses {threshold:g} for this {code} code.", measured=measured(code),
                                     threshold=code.threshold, code=code_name(code)))
rho = own_rho if own_rho is not None else c2.select_slider(
    tr("Target ρ"), [0.01, 0.02, 0.05, 0.1, 0.2, 0.5], value=0.05, key="act_rho",
    help=tr("The target ρ for the KL view. This model has no target firing rate; pick one to see what the seed's "
            "KL penalty would say."))
if own_rho is not None:
    c2.metric(tr("Target ρ"), f"{own_rho:.3g}",
              help=tr("From the model: the fraction of images each unit is meant to be active on (sparse_kl's ρ; "
                      "k / units for top-k)."))
order_by = c3.selectbox(tr("Order units by"), list(ORDERS), key="act_order", format_func=lambda o: tr(ORDERS[o]))
log_counts = c4.toggle(tr("Log counts"), value=True, key="act_log", help=tr("Log scale for histogram counts."))

report = caches.activation_report(ctx.key, model, data.name, ctx.device, float(threshold), float(rho))
stats = report.stats
order = unit_order(report, order_by)
alive_first = [int(u) for u in unit_order(report, "firing")]

m = st.columns(5)
active_when = describe(code, float(threshold))
m[0].metric(tr("Code units"), report.n_units)
m[1].metric(tr("Mean L0"), f"{stats.mean_l0:.1f}",
            help=tr("Active units per image ({rule}), averaged over the test images", rule=active_when))
m[2].metric(tr("Dead units"), f"{len(stats.dead_units)} ({stats.dead_fraction:.0%})")
m[3].metric(tr("Dense units"), f"{stats.dense_fraction:.0%}", help=tr("Active on more than 10 % of the test images"))
m[4].metric("Σ KL(ρ‖ρ̂ⱼ)", f"{stats.kl_sum:.3f}", help=tr("The seed's sparsity penalty before the β weight."))
st.caption(tr("Dead (never fire): {dead} · always on: {always}",
              dead=", ".join(map(str, stats.dead_units)) or tr("none"),
              always=", ".join(map(str, stats.always_on_units)) or tr("none")))
if not (report.firing_rate > 0).any():
    st.warning(tr("No unit fires on any test image at this threshold."))

st.session_state.setdefault(keys.ACTIVATIONS_VIEW, "units")
view = st.segmented_control(tr("Show"), list(VIEWS), format_func=lambda v: tr(VIEWS[v]), key=keys.ACTIVATIONS_VIEW,
                            required=True, label_visibility="collapsed")
# The unit inspected in "One unit" (highlighted in the histograms). Its selectbox is drawn in that view only, and
# Streamlit forgets a widget's value in a run that does not draw it: setting it here each run keeps the choice.
if st.session_state.get(keys.ACTIVATIONS_UNIT) not in alive_first:      # none yet, or another model's
    st.session_state[keys.ACTIVATIONS_UNIT] = alive_first[0]
unit = st.session_state[keys.ACTIVATIONS_UNIT] = int(st.session_state[keys.ACTIVATIONS_UNIT])

if view == "units":
    st.subheader(tr("Every unit's activation histogram"))
    st.plotly_chart(caches.unit_histograms(ctx.key, data.name, ctx.device, float(threshold), float(rho),
                                             tuple(int(u) for u in order[:64]), log_counts, unit, report),
                    config=PLOTLY_CONFIG, key="small_multiples")
    bins = report.hist_counts.shape[1]
    st.caption((tr("One cell per unit, in the chosen order: bars count the test images in {bins} bins over the "
                   "unit's own range of z (hover for the range and the count), scaled to its tallest bar on a log "
                   "scale; unit {unit} (see *One unit*) is orange.", bins=bins, unit=unit) if log_counts else
                tr("One cell per unit, in the chosen order: bars count the test images in {bins} bins over the "
                   "unit's own range of z (hover for the range and the count), scaled to its tallest bar; unit "
                   "{unit} (see *One unit*) is orange.", bins=bins, unit=unit))
               + (tr(" Showing the first 64 of {units} units.", units=report.n_units) if report.n_units > 64 else ""))
    st.caption(report.marks.meaning)

elif view == "kl":
    st.subheader(tr("Mean activation and the KL sparsity penalty, per unit"))
    st.latex(r"\mathrm{KL}(\rho\,\Vert\,\hat\rho_j) = \rho\log\frac{\rho}{\hat\rho_j}"
             r" + (1-\rho)\log\frac{1-\rho}{1-\hat\rho_j},"
             r"\qquad \hat\rho_j = \frac{1}{N}\sum_{i} z_j(x_i)")
    if stats.kl_on == "firing_rate":
        st.caption(tr("This code is not a probability (its units are not sigmoids), so the KL view uses each unit's "
                      "firing rate as ρ̂ⱼ; the top panel still shows the mean activation."))
    panels = [UnitPanel(tr("Mean activation ρ̂ⱼ"), "ρ̂ⱼ", report.mean_activation,
                        rho if stats.kl_on == "mean_activation" else None, tr("target ρ = {rho:g}", rho=rho)),
              UnitPanel(tr("KL(ρ‖ρ̂ⱼ), sum = {kl:.3f}", kl=stats.kl_sum), "KL", report.unit_kl),
              *(UnitPanel(tr(title), "", values)                     # what only this variant has, per unit
                for title, values in report.per_unit_extras.items())]
    st.plotly_chart(unit_panels(panels, order, report.marks), config=PLOTLY_CONFIG, key="per_unit")
    st.caption(report.marks.meaning)

elif view == "firing":
    st.subheader(tr("How often units fire, and how many fire per image"))
    st.plotly_chart(sparsity_distributions(report.firing_rate, report.l0, report.n_units, report.marks),
                    config=PLOTLY_CONFIG, key="distributions")
    st.caption(report.marks.meaning)

elif view == "image":
    st.subheader(tr("One image's code"))
    strip_idx = pick_indices(data.test_y, 16, seed=page.seed(keys.ACTIVATIONS_STRIP_SEED))
    strip_labels = [tr("test #{index} · class {label}", index=i, label=data.class_names[int(data.test_y[i])])
                    for i in strip_idx]
    event = st.plotly_chart(clickable_strip(data.test_x[strip_idx].cpu().numpy(), data.image_shape, strip_labels),
                            config={"displayModeBar": False}, key="act_strip", on_select="rerun",
                            selection_mode="points")
    points = event.selection.points if event and event.selection else []
    default_image = int(strip_idx[points[0]["customdata"]]) if points else int(strip_idx[0])
    c1, c2 = st.columns([1, 3])
    image_index = c1.number_input(tr("Test image index"), 0, len(data.test_x) - 1, default_image,
                                  key=f"act_image_{default_image}",
                                  help=tr("Click an image in the strip above, or type an index."))
    if c1.button(tr("Other images"), icon=":material/shuffle:"):
        page.next_seed(keys.ACTIVATIONS_STRIP_SEED)
        st.rerun()
    c1.image(tiles_png(data.test_x[[image_index]].cpu().numpy(), data.image_shape, ncols=1, scale=6),
             caption=tr("#{index} · class {label}", index=image_index,
                        label=data.class_names[int(data.test_y[image_index])]))
    c2.plotly_chart(code_bars(report.codes[image_index],
                              tr("Hidden activations of test image #{index} ({active} of {units} active)",
                                 index=image_index, active=int(report.active[image_index].sum()), units=report.n_units),
                              marks=report.marks), config=PLOTLY_CONFIG, key="one_code")
    c2.caption(report.marks.meaning)
    st.markdown(tr("**Push the code** — move this image's units and watch what the decoder draws (the decoder "
                   "alone: the encoder is not asked again)."))
    push_panel.panel(ctx.key, model, report.codes, int(image_index), data.test_x[image_index].cpu().numpy(),
                     data.image_shape)

elif view == "unit":
    st.subheader(tr("One unit's feature page"))
    atlas = caches.read_dictionary(ctx.key, model)
    pick, facts = st.columns([2, 3], vertical_alignment="bottom")
    unit = pick.selectbox(tr("Unit"), alive_first, key=keys.ACTIVATIONS_UNIT,
                          format_func=lambda u: tr("unit {unit}: fires {rate:.1%}, ρ̂ {mean:.2g}", unit=u,
                                                   rate=report.firing_rate[u], mean=report.mean_activation[u]),
                          help=tr("The units from the most to the least often active: how often each fires on the "
                                  "test images, and ρ̂, its mean activation."))
    feature = caches.feature_report(ctx.key, model, data.name, ctx.device, unit, float(threshold))
    selectivity = caches.unit_selectivity(ctx.key, model, data.name, ctx.device)
    si = math.nan if selectivity is None else float(selectivity.per_unit[unit])
    f1, f2, f3 = facts.columns(3)
    fires = f"{feature.firing_rate:.0%}" if feature.firing_rate >= 0.1 else f"{feature.firing_rate:.1%}"
    f1.metric(tr("Fires on"), fires,
              help=tr("{active:,} of the {images:,} test images: active when {rule}.", active=feature.n_active,
                      images=feature.n_images, rule=active_when))
    f2.metric(tr("Largest z"), f"{feature.bins[0].z_high:.3g}" if feature.n_active else "—",
              help=tr("The largest activation of this unit over the test images on which it is active."))
    f3.metric(tr("Class SI"), tr("not live") if math.isnan(si) else f"{si:.2f}",
              help=tr("Class selectivity SI = (μ_max − μ_rest) / (μ_max + μ_rest): μ_c is the unit's mean activity "
                      "over class c's test images, μ_rest the mean of the other classes' (Morcos et al. 2018). 1: it "
                      "fires for one class only; 0: alike for all."))
    atom_col, filter_col, hist_col = st.columns([1, 1, 3])
    big = max(1, 180 // data.image_shape[1])                  # sharp at the column's width (it is stretched to it)
    atom_col.image(tiles_png(filters_as_images(feature.atom[None]), data.image_shape, ncols=1, scale=big),
                   caption=tr("Decoder atom: what it adds to {target}", target=atlas.atom_adds_to), width="stretch")
    filter_col.image(tiles_png(filters_as_images(feature.filter[None]), data.image_shape, ncols=1, scale=big),
                     caption=tr("Encoder filter: what it reads"), width="stretch")
    learned = None if report.unit_thresholds is None else float(report.unit_thresholds[unit])
    hist_col.plotly_chart(feature_histogram(report.hist_counts[unit], report.hist_edges[unit], unit, log_counts,
                                            learned, feature.bins), config=PLOTLY_CONFIG, key="unit_hist")
    st.caption(tr("Atom and filter: light = positive, dark = negative, gray = 0. This model has a {decoder}.",
                  decoder=atlas.decoder_shown) if atlas.one_layer else
               tr("Atom and filter: light = positive, dark = negative, gray = 0. This model has a {decoder}; with "
                  "hidden layers, atom and filter are the product of the layers' weights (the ReLUs left out): a "
                  "first look, not exact.", decoder=atlas.decoder_shown))
    if not feature.n_active:
        st.info(tr("Unit {unit} is not active on any test image ({rule}): it has no images, classes or partners "
                   "to show. Lower the activity threshold, or pick a unit that fires. {dead}", unit=unit,
                   rule=active_when, dead=report.marks.dead_meaning))
    else:
        st.markdown(tr("**Its test images, by how strongly it fires** — the {count:,} images on which it is "
                       "active, sorted by z and cut into quantile bins: the top tenth, and three bins further "
                       "down (each shaded in its colour on the histogram).", count=feature.n_active))
        for row in range(0, len(feature.bins), 2):
            for column, (i, shown) in zip(st.columns(2), enumerate(feature.bins[row:row + 2], start=row), strict=False):
                if not shown.count:
                    column.caption(tr(":{colour}[**{bin}**] of its active values: no images (it fires on too few).",
                                      colour=BIN_COLOURS[i], bin=shown.label))
                    continue
                top_class, in_top = shown.main_class
                picked = tr("the strongest") if shown.high >= 1.0 else tr("spread through the bin")
                column.image(tiles_png(data.test_x[shown.images].cpu().numpy(), data.image_shape, ncols=5, scale=2))
                column.caption(tr(":{colour}[**{bin}**] of its active values: z {low:.3g} to {high:.3g}, {count:,} "
                                  "images ({shown} shown, {picked}); most are {label} ({in_top} of {count}).",
                                  colour=BIN_COLOURS[i], bin=shown.label, low=shown.z_low, high=shown.z_high,
                                  count=shown.count, shown=len(shown.images), picked=picked,
                                  label=data.class_names[top_class], in_top=in_top))
        st.markdown(tr("**Which classes it fires for**"))
        class_rates = None if feature.nearly_always else feature.class_firing
        class_means = None if selectivity is None else selectivity.class_means[unit]
        if class_rates is not None or class_means is not None:
            one_panel = class_rates is None or class_means is None          # half the width, as one of two would be
            slot = st.columns(2)[0] if one_panel else st.container()
            slot.plotly_chart(class_panels(class_rates, class_means, data.class_names, None if math.isnan(si) else si),
                              config=PLOTLY_CONFIG, key="unit_classes")
        rates_note = (tr("It is active on nearly every test image ({rate:.0%}), so how often it fires per class says "
                         "little: its mean activity does.", rate=feature.firing_rate) if class_rates is None else
                      tr("How often it fires: the share of each class's test images on which it is active."))
        means_note = "" if selectivity is None else (
            tr(" Mean activity μ_c: its average over each class's images, and its class selectivity SI. Over this "
               "model's live units: mean SI {mean}; with the labels permuted {null:.2f} — what chance alone gives "
               "units that fire as rarely as these. ", mean=selectivity.mean.shown(2), null=selectivity.null)
            + (tr("Activity is |z − mean z| for this signed code. ") if code.signed else "")
            + tr("The **Claims** page compares models on it."))
        st.caption(rates_note + means_note)
        st.markdown(tr("**Fires together with**"))
        if feature.ranked_by == "jaccard":
            st.caption(tr("The units most often active on the same test images as unit {unit}, ranked by the Jaccard "
                          "index J = |A_j ∩ A_k| / |A_j ∪ A_k|, A being the images on which a unit is active "
                          "({rule}). P(k | {unit}) is how often unit k fires when {unit} does; compare it with k's "
                          "own firing rate. Click one for its feature page.", unit=unit, rule=active_when))
        else:
            st.caption(tr("Unit {unit} is active on nearly every test image, so co-firing would only repeat each "
                          "unit's own firing rate: these are the units whose activations correlate most with its "
                          "own (Pearson r over the test images, ranked by |r|). Click one for its feature page.",
                          unit=unit))
        if not feature.partners:
            st.caption(tr("No other unit is ever active on the same images."))
        for row in range(0, len(feature.partners), PARTNERS_PER_ROW):
            for card, partner in zip(st.columns(PARTNERS_PER_ROW), feature.partners[row:row + PARTNERS_PER_ROW],
                                     strict=False):
                card.image(tiles_png(filters_as_images(atlas.atoms[[partner.unit]]), data.image_shape, ncols=1,
                                     scale=2))
                card.button(tr("Unit {unit}", unit=partner.unit), key=f"act_partner_{partner.unit}", on_click=open_unit,
                            args=(partner.unit,), icon=":material/arrow_forward:",
                            help=tr("Open unit {unit}'s feature page", unit=partner.unit))
                card.caption(tr("J = {jaccard:.2f} · P({partner} | {unit}) = {given:.0%} · fires on {rate:.0%}",
                                jaccard=partner.jaccard, partner=partner.unit, unit=unit, given=partner.given,
                                rate=partner.firing_rate) if feature.ranked_by == "jaccard"
                             else f"r = {partner.correlation:+.2f}")

else:
    st.subheader(tr("The dictionary: what each unit reads, and what it adds to the picture"))
    atlas = caches.read_dictionary(ctx.key, model)
    tile_labels = [str(u) for u in alive_first]
    hover = [tr("unit {unit} · fires on {rate:.1%} of the test images", unit=u, rate=report.firing_rate[u])
             for u in alive_first]
    exact = tr("exact for this one-layer model") if atlas.one_layer else \
        tr("with hidden layers, the product of the layers' weights, the ReLUs left out: a first look, not exact")
    faces = {"filters": (tr("Encoder filters: what each unit reads"),
                         tr("Each tile is one unit's input-space filter, the encoder's weights ({exact}). Light = "
                            "positive weight, dark = negative, gray = 0.", exact=exact), atlas.filters),
             "atoms": (tr("Decoder atoms: what each unit adds"),
                       tr("Each tile is one unit's decoder atom, its column of the decoder's weights ({exact}): what "
                          "the unit adds, times its activation, to {target} — this model has a {decoder}. Light "
                          "adds, dark takes away, gray = 0.", exact=exact, target=atlas.atom_adds_to,
                          decoder=atlas.decoder_shown), atlas.atoms)}
    st.caption(tr("Tiles are numbered by unit, most active units first (firing rate over the test images). Click a "
                  "tile for that unit's feature page."))
    # Side by side where both fit at their own size, else one under the other (never shrunk: the numbers stay legible)
    sheets_row = st.container(horizontal=True, gap="medium")
    for name, (title, caption, weights) in faces.items():
        sheet = numbered_tiles(filters_as_images(weights)[alive_first], data.image_shape, tile_labels,
                               ncols=balanced_columns(len(alive_first), SHEET_COLUMNS))
        column = sheets_row.container(width=sheet.width)
        column.markdown(f"**{title}**")
        column.plotly_chart(clickable_sheet(sheet, alive_first, hover), config={"displayModeBar": False},
                            key=f"act_{name}_sheet", on_select=lambda name=name: open_clicked(f"act_{name}_sheet"),
                            selection_mode="points", width="content")
        column.caption(caption)
        column.download_button(tr("Download filters (PNG)") if name == "filters" else tr("Download atoms (PNG)"),
                               sheet.png, file_name=f"{name}-{model.name}.png",
                               mime="image/png", icon=":material/download:", key=f"act_{name}_download")

sketch.panel(ctx, "sketch_act")
links.publish("activations", {"view": view, "unit": unit if view == "unit" else None}, ctx.link_slot)
