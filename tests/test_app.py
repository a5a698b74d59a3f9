"""The Streamlit app under AppTest: every page runs on the shipped checkpoints, widgets change
what is shown, bad input becomes a message, and sessions do not see each other's models."""
from __future__ import annotations

import base64
import json
import re
import uuid

import numpy as np
import pytest
from apptest_support import server_like_pages
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from explorer.app.catalog import CHECKPOINT_DIR, SAVE_DIR, file_digest

APP = str(ROOT / "streamlit_app.py")


@pytest.fixture(autouse=True)
def _like_a_running_server():
    with server_like_pages():
        yield


def fresh(page: str | None = None, model: str | None = None) -> AppTest:
    """A new browser session on `page`, with checkpoints/<model>.pt made active first if given."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    if model:
        at.sidebar.selectbox(key="active_model").set_value(shipped_key(model)).run()
    if page:
        at.switch_page(page)
        at.run()
    return at


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def test_home_shows_the_active_model_and_its_metrics():
    at = fresh()
    no_exception(at)
    assert at.title[0].value == "Autoencoder Explorer"
    labels = {m.label: m.value for m in at.metric}
    assert labels["Active model"] == "ae" and float(labels["Test MSE"]) < 0.03
    assert 70 < float(labels["Variance explained"].rstrip("%")) < 95
    assert labels["L0 (active units)"].endswith("/ 32")
    assert at.sidebar.selectbox(key="active_model").value.startswith("file:")
    assert len(at.latex) == 1


@pytest.mark.parametrize("page", ["pages/home.py", "pages/train.py", "pages/reconstructions.py", "pages/activations.py",
                                  "pages/latent.py", "pages/compare.py"])
@pytest.mark.parametrize("model", ["ae", "sparse_kl", "denoising", "vae", "topk", "batch_topk", "jumprelu",
                                   "matryoshka", "mp", "topk-linear"])
def test_every_page_runs_on_the_shipped_checkpoints(page, model):
    at = fresh(page, model=model)
    no_exception(at)
    assert not at.error, [e.value for e in at.error]


def shipped_key(stem: str) -> str:
    """The sidebar's option key of checkpoints/<stem>.pt (its content hash)."""
    return "file:" + file_digest(CHECKPOINT_DIR / f"{stem}.pt")


def image_captions(at: AppTest) -> list[str]:
    return [image.caption for element in at.get("image") for image in element.proto.imgs]


def test_reconstruction_widgets_change_the_output():
    at = fresh("pages/reconstructions.py")
    no_exception(at)
    before = image_captions(at)[0]
    assert before.startswith("Top: original · Bottom: reconstruction · mean MSE of these 16")
    at.selectbox(key="rec_noise").set_value("gaussian").run()
    no_exception(at)
    assert at.slider(key="rec_level_gaussian").value == pytest.approx(0.3)
    noisy = image_captions(at)[0]
    assert noisy.startswith("Top: noisy input · Middle: denoised · Bottom: original")
    assert float(noisy.rsplit(" ", 1)[1]) > float(before.rsplit(" ", 1)[1])   # noise hurts the plain AE
    at.slider(key="rec_count").set_value(8).run()
    no_exception(at)
    assert "mean MSE of these 8" in image_captions(at)[0]
    next(b for b in at.button if b.label == "Reshuffle").click().run()
    no_exception(at)
    assert at.session_state["rec_seed"] == 1 and image_captions(at)[0] != noisy


def test_denoising_model_opens_with_its_own_noise():
    at = fresh("pages/reconstructions.py", model="denoising")
    no_exception(at)
    assert at.selectbox(key="rec_noise").value == "gaussian"


def test_a_dataset_that_does_not_fit_the_model_is_explained():
    at = fresh()
    at.sidebar.selectbox(key="dataset").set_value("digits").run()
    no_exception(at)
    assert any("reads 784-pixel images" in e.value and "digits has 64-pixel" in e.value for e in at.error)


def test_offline_download_dataset_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("AE_EXPLORER_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)   # ./data is empty here
    at = fresh()
    at.sidebar.selectbox(key="dataset").set_value("fashion-mnist").run()
    no_exception(at)
    assert any("FashionMNIST/raw" in e.value and "work offline: mnist-5k, digits" in e.value for e in at.error)
    at.switch_page("pages/train.py")
    at.run()
    no_exception(at)
    assert any("FashionMNIST/raw" in e.value for e in at.error)


def test_impossible_hyperparameter_is_an_error_not_a_crash():
    at = fresh("pages/train.py")
    at.text_input(key="hp_ae_hidden").set_value("12x").run()
    train_button = next(b for b in at.button if b.label == "Train")
    train_button.click().run()
    no_exception(at)
    assert any("hidden must be a comma-separated list" in e.value for e in at.error)
    assert "train_job" not in at.session_state


def test_training_in_the_app_and_session_isolation():
    at = fresh()
    at.sidebar.selectbox(key="dataset").set_value("digits").run()
    at.switch_page("pages/train.py")
    at.run()
    at.number_input(key="epochs_ae_128_digits").set_value(3).run()
    next(b for b in at.button if b.label == "Train").click().run(timeout=120)
    no_exception(at)
    assert any("Finished after 3 epochs" in s.value for s in at.success)
    job = at.session_state["train_job"]
    assert job.history["epoch"] == [1, 2, 3] and job.saved_to is not None and job.saved_to.exists()
    # listed at once, as this browser's own trained model, from the file written when training ended
    mine = [o for o in at.sidebar.selectbox(key="active_model").options if "· trained" in o]
    assert len(mine) == 1 and mine[0].startswith("ae · digits · trained") and mine[0].endswith("(3 epochs)")
    # another browser (another id) sees only what everyone sees
    assert not any("· trained" in o for o in fresh().sidebar.selectbox(key="active_model").options)
    # Save, then Make active: the saved checkpoint becomes the active model (a link can name it)
    name = f"saved-{uuid.uuid4().hex[:8]}"
    at.text_input(key=f"name_{job.key}").set_value(name).run()
    next(b for b in at.button if b.label == "Save as checkpoint").click().run()
    no_exception(at)
    next(b for b in at.button if b.label == "Make active").click().run()
    no_exception(at)
    assert at.session_state["active_model"] == "file:" + file_digest(SAVE_DIR / f"{name}.pt")
    assert at.query_params.get("model") in (f"saved/{name}", [f"saved/{name}"])


def test_activations_page_shows_evaluates_kl_sum_and_reacts_to_threshold(mnist5k):
    from explorer import evaluate, load_checkpoint

    at = fresh("pages/activations.py", model="sparse_kl")
    no_exception(at)
    metrics = {m.label: m.value for m in at.metric}
    expected = evaluate(load_checkpoint(CHECKPOINT_DIR / "sparse_kl.pt"), mnist5k).code
    assert metrics["Σ KL(ρ‖ρ̂ⱼ)"] == f"{expected.kl_sum:.3f}"
    assert metrics["Target ρ"] == "0.05"
    assert metrics["Mean L0"] == f"{expected.mean_l0:.1f}"
    assert at.select_slider(key="act_threshold_sigmoid").value == 0.5      # a sigmoid code: more on than off
    at.select_slider(key="act_threshold_sigmoid").set_value(0.2).run()
    no_exception(at)
    assert float({m.label: m.value for m in at.metric}["Mean L0"]) > expected.mean_l0
    at.selectbox(key="act_order").set_value("kl").run()
    at.toggle(key="act_log").set_value(False).run()
    no_exception(at)


def test_activations_page_on_the_plain_ae_lists_dead_units():
    at = fresh("pages/activations.py")
    no_exception(at)
    dead = {m.label: m.value for m in at.metric}["Dead units"]
    assert int(dead.split()[0]) >= 3
    assert any(c.value.startswith("Dead (never fire):") and "none" not in c.value.split("·")[0] for c in at.caption)
    assert at.select_slider(key="act_rho").value == 0.05     # no own ρ: the page offers one


def chart_values(value) -> np.ndarray:
    """A trace's array from a figure's JSON: a plain list, or plotly's typed-array form (dtype, bdata)."""
    if isinstance(value, dict) and "bdata" in value:
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = value.get("shape")
        return flat.reshape([int(n) for n in str(shape).split(",")]) if shape else flat
    return np.asarray(value)


def charts_by_key(at: AppTest) -> dict[str, dict]:
    """Each plotly chart's figure (as JSON) by the chart's key (the end of its element id)."""
    return {chart.proto.id.rsplit("-", 1)[-1]: json.loads(chart.proto.spec) for chart in at.get("plotly_chart")}


@pytest.mark.parametrize("model", ["sparse_kl", "vae", "jumprelu", "mp"])
def test_every_activations_view_is_there_with_the_librarys_numbers(model, mnist5k):
    """Each view of the Activations page, chosen in its selector, draws the library's numbers: every
    unit's histogram counts, ρ̂ⱼ and KL(ρ‖ρ̂ⱼ) with the sum and the variant's own per-unit numbers,
    firing rates and L0, one image's code, one unit's feature page (histogram, atom and filter, classes), and
    every filter and decoder atom. Only the chosen view's charts are sent."""
    from explorer import load_checkpoint
    from explorer.activations import activation_report, unit_order
    from explorer.measures import model_selectivity

    net = load_checkpoint(CHECKPOINT_DIR / f"{model}.pt")
    report = activation_report(net, mnist5k)                 # the page's defaults: the code's threshold, own ρ
    at = fresh("pages/activations.py", model=model)
    no_exception(at)
    assert at.segmented_control(key="act_view").value == "units"
    charts = charts_by_key(at)
    assert list(charts) == ["small_multiples"]              # a first visit: one chart
    bars = charts["small_multiples"]["data"][0]
    custom = chart_values(bars["customdata"]).reshape(min(report.n_units, 64), -1, 4)
    assert (custom[..., 0] == np.arange(min(report.n_units, 64))[:, None]).all()       # unit order: by index
    assert (custom[..., 3] == report.hist_counts[:64]).all()

    at.segmented_control(key="act_view").set_value("kl").run()
    no_exception(at)
    charts = charts_by_key(at)
    assert list(charts) == ["per_unit"]
    traces = charts["per_unit"]["data"]
    assert np.allclose(chart_values(traces[0]["y"]), report.mean_activation)
    assert np.allclose(chart_values(traces[1]["y"]), report.unit_kl)
    titles = [a["text"] for a in charts["per_unit"]["layout"]["annotations"]]
    assert f"KL(ρ‖ρ̂ⱼ), sum = {report.stats.kl_sum:.3f}" in titles
    own = sum(m.per_unit for m in type(net).extra_metrics)        # the VAE's KL per dimension, JumpReLU's θ_j
    assert len(report.per_unit_extras) == own and own == (model in ("vae", "jumprelu"))
    bars = [t for t in traces[2:] if t["type"] == "bar"]            # after them, the legend of dead units
    for trace, (title, values) in zip(bars, report.per_unit_extras.items(), strict=True):
        assert title in titles and np.allclose(chart_values(trace["y"]), values)
    assert len(at.latex) == 1

    at.segmented_control(key="act_view").set_value("firing").run()
    charts = charts_by_key(at)
    assert list(charts) == ["distributions"]
    density, l0 = charts["distributions"]["data"][:2]
    assert np.allclose(chart_values(density["x"]), np.log10(report.firing_rate[report.firing_rate > 0]))
    assert (chart_values(l0["x"]) == report.l0).all()

    at.segmented_control(key="act_view").set_value("image").run()
    no_exception(at)
    image = next(n.value for n in at.number_input if n.key.startswith("act_image_"))
    charts = charts_by_key(at)
    assert set(charts) == {"act_strip", "one_code"}
    assert np.allclose(chart_values(charts["one_code"]["data"][0]["y"]), report.codes[image], atol=1e-6)
    assert f"({int(report.active[image].sum())} of {report.n_units} active)" in \
        charts["one_code"]["layout"]["title"]["text"]

    at.segmented_control(key="act_view").set_value("unit").run()
    no_exception(at)
    firing_first = unit_order(report, "firing")
    assert at.selectbox(key="act_unit").value == firing_first[0]
    at.selectbox(key="act_unit").set_value(int(firing_first[3])).run()
    unit = int(firing_first[3])
    charts = charts_by_key(at)
    assert list(charts) == ["unit_hist", "unit_classes"]
    assert (chart_values(charts["unit_hist"]["data"][0]["y"]) == report.hist_counts[unit]).all()
    selectivity = model_selectivity(net, mnist5k)                    # the Claims page's numbers, unit by unit
    assert np.allclose(chart_values(charts["unit_classes"]["data"][-1]["y"]), selectivity.class_means[unit])
    captions = image_captions(at)
    assert any(c.startswith("Decoder atom") for c in captions)
    assert any(c.startswith("Encoder filter") for c in captions)
    assert at.query_params["view"] == "unit" and at.query_params["unit"] == str(unit)

    at.segmented_control(key="act_view").set_value("filters").run()
    charts = charts_by_key(at)
    assert set(charts) == {"act_filters_sheet", "act_atoms_sheet"}          # tiles numbered by unit, clickable
    assert all(chart_values(c["data"][1]["customdata"]).tolist() == firing_first.tolist() for c in charts.values())
    assert [b.label for b in at.get("download_button")] == ["Download filters (PNG)", "Download atoms (PNG)"]

    at.segmented_control(key="act_view").set_value("units").run()      # the unit chosen above is kept
    colours = np.asarray(charts_by_key(at)["small_multiples"]["data"][0]["marker"]["color"])
    assert set(chart_values(charts_by_key(at)["small_multiples"]["data"][0]["customdata"]).reshape(-1, 4)[
        colours == "#ff7f0e", 0]) == {unit}
    at.segmented_control(key="act_view").set_value("unit").run()
    assert at.selectbox(key="act_unit").value == unit


def test_latent_page_maps_and_exports():
    at = fresh("pages/latent.py")
    no_exception(at)
    assert at.session_state["lat_method"] == "pca"
    assert [b.label for b in at.get("download_button")] == ["codes.csv", "vectors.tsv", "metadata.tsv"]
    share = next(c.value for c in at.caption if "The map shows" in c.value)
    charts = len(at.get("plotly_chart"))
    at.toggle(key="lat_variance").set_value(True).run()                   # the bars, on request
    assert len(at.get("plotly_chart")) == charts + 1
    assert json.loads(at.get("plotly_chart")[-1].proto.spec)["layout"]["title"]["text"] == "Variance per PCA component"
    assert re.match(r"The map shows \d+% of the codes' variance \(PC1 \d+%, PC2 \d+%\)\.", share)
    at.slider(key="lat_n_all_mnist-5k").set_value(300).run()
    at.segmented_control(key="lat_method").set_value("tsne").run()
    no_exception(at)
    assert at.slider(key="lat_perplexity").value == 30
    assert any(c.value.startswith("t-SNE (openTSNE) after 750 iterations at perplexity 30") for c in at.caption)
    assert not at.get("progress")                  # the maps on the way are replaced by the final one
    at.toggle(key="lat_3d").set_value(True).run()
    no_exception(at)


def test_latent_page_for_the_2d_vae_shows_raw_map_and_generative_views():
    at = fresh("pages/latent.py", model="vae-2d")
    no_exception(at)
    assert at.session_state["lat_method"] == "raw"
    assert not any("decoded from z ~ N(0, I)" in c for c in image_captions(at))     # below the fold: on request
    at.toggle(key="lat_generate").set_value(True).run()
    no_exception(at)
    captions = image_captions(at)
    assert any("decoded from z ~ N(0, I)" in c for c in captions)
    assert any("Kingma & Welling" in c for c in captions)
    assert any("swept from −3 to 3" in c for c in captions)
    next(b for b in at.button if b.label == "New samples").click().run()
    no_exception(at)
    assert at.session_state["lat_prior_seed"] == 1


@pytest.mark.parametrize("model", ["ae", "vae"])
def test_a_drawn_digit_s_active_units_are_counted_in_its_code_s_own_terms(model, mnist5k):
    """The drawing panel's count, against a hand count: a ReLU code's non-zero units; a Gaussian code's
    units that vary over the training images (an image alone has no variance: it would read 0)."""
    import base64
    import io

    import numpy as np
    import torch
    from PIL import Image

    from explorer import load_checkpoint
    from explorer.app import keys
    from explorer.drawing import prepare

    ink = np.zeros((280, 280), dtype=np.float32)
    ink[40:60, 60:220] = 1.0                                       # a 7: a bar across the top …
    for row in range(60, 240):                                     # … and a stroke down to the left
        ink[row, 200 - (row - 60) // 2: 220 - (row - 60) // 2] = 1.0
    buffer = io.BytesIO()
    Image.fromarray((ink * 255).astype(np.uint8)).save(buffer, format="PNG")
    at = fresh(model=model)
    at.session_state[keys.SKETCH_IMAGE] = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    at.switch_page("pages/reconstructions.py")
    at.run()
    no_exception(at)
    chart = next(c for c in at.get("plotly_chart") if "Its code:" in c.proto.spec)
    shown = int(chart.proto.spec.split("Its code: ")[1].split(" of ")[0])

    net = load_checkpoint(CHECKPOINT_DIR / f"{model}.pt")
    code = net.encode_all(torch.from_numpy(prepare(ink, (28, 28)))[None])[0]
    if model == "ae":
        expected = int((code != 0).sum())
    else:
        train = torch.cat([net.encode_all(mnist5k.train_x.cpu()), code[None]])
        expected = int((train.var(dim=0, unbiased=False) > 0.01).sum())
        assert expected > 0
    assert shown == expected


@pytest.mark.parametrize("page", ["pages/reconstructions.py", "pages/activations.py", "pages/latent.py"])
def test_the_drawing_pad_opens_on_request(page):
    """Closed on a first visit (no canvas, no upload box to load); with a drawing it opens by itself
    (test_a_drawn_digit_s_active_units_are_counted_in_its_code_s_own_terms)."""
    at = fresh(page)
    pad = next(t for t in at.toggle if t.label == "Open the drawing pad")
    assert pad.value is False and not at.main.get("file_uploader")     # a first visit: no canvas, no upload box
    pad.set_value(True).run()
    no_exception(at)
    assert [u.label for u in at.main.get("file_uploader")] == ["…or upload a picture of a digit"]
    assert any("Draw a digit on the black square" in i.value for i in at.info)


def test_compare_page_shows_the_l1_sweep_trade_off():
    at = fresh("pages/compare.py")
    no_exception(at)
    chosen = at.multiselect(key="cmp_models").value
    assert len(chosen) == 5                                   # the shipped λ sweep is the default
    assert list(at.dataframe[0].value.columns) == ["setting", "recon MSE", "FVU", "mean L0", "dead fraction"]
    at.multiselect(key="cmp_columns").set_value(["mean |z|₁", "learned nothing"]).run()     # … the rest on request
    table = at.dataframe[0].value
    assert len(table) == 5 and all(s.startswith("sparse_l1") for s in table["setting"])
    assert list(table["setting"]) == ["sparse_l1 λ=0", "sparse_l1 λ=0.0001", "sparse_l1 λ=0.0003",
                                      "sparse_l1 λ=0.001", "sparse_l1 λ=0.003"]     # in λ order
    assert list(table["mean |z|₁"]) == sorted(table["mean |z|₁"], reverse=True)     # more λ, smaller code
    assert list(table["recon MSE"]) == sorted(table["recon MSE"])                    # … and worse recon
    assert list(table["FVU"]) == sorted(table["FVU"]) and list(table["learned nothing"]) == ["", "", "", "", "yes"]
    assert "Σ KL(ρ‖ρ̂)" not in at.multiselect(key="cmp_columns").options       # no sparse_kl here: no such column
    assert any("Learned nothing" in w.value and "λ=0.003" in w.value for w in at.warning)
    assert [b.label for b in at.get("download_button")] == ["Download table (CSV)"]
    presets = [b.label for b in at.button if b.label != "Run the sweep"]
    assert presets[:5] == ["λ sweep of sparse_l1", "β sweep of sparse_kl", "k sweep of topk",
                                               "k sweep of batch_topk", "λ sweep of jumprelu"]
    next(b for b in at.button if b.label == "β sweep of sparse_kl").click().run()
    no_exception(at)
    assert len(at.multiselect(key="cmp_models").value) == 4
    assert all(s.startswith("sparse_kl") for s in at.dataframe[0].value["setting"])
    at.segmented_control(key="cmp_x").set_value("mean activation").run()
    at.segmented_control(key="cmp_more").set_value("unit distributions").run()
    at.segmented_control(key="cmp_dist").set_value("mean activation").run()
    no_exception(at)
    assert "Per-unit mean activation, all models overlaid" in str(plotly_figures(at)[-1]["layout"]["title"])


def plotly_figures(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def test_compare_every_shipped_variant_mse_charts_plot_mse_and_the_frontier_marks_its_front():
    """The chart titled MSE shows each model's test reconstruction MSE (the VAE's included: once it
    drew the VAE's total loss, 230 → 121 nats, beside MSEs of 0.01–0.05)."""
    at = fresh("pages/compare.py")
    next(b for b in at.button if b.label == "the sparse autoencoders").click().run()
    no_exception(at)
    saes = set(at.dataframe[0].value["setting"])
    assert saes == {"topk decoder=sigmoid", "topk decoder=linear", "batch_topk (defaults)", "jumprelu (defaults)",
                    "matryoshka (defaults)", "mp (defaults)"}
    next(b for b in at.button if b.label == "the classic variants").click().run()
    no_exception(at)
    table = at.dataframe[0].value
    assert len(table) == 7 and {"vae latent=2", "ae (defaults)", "sparse_kl (defaults)"} <= set(table["setting"])
    at.segmented_control(key="cmp_more").set_value("loss curves").run()
    at.segmented_control(key="cmp_view").set_value("the L0–FVU frontier, across sweeps").run()
    figures = {f["layout"]["title"]["text"]: f for f in plotly_figures(at)}
    assert not any(title.startswith("The trade-off") for title in figures), "one error/sparsity chart at a time"
    curves = figures["test reconstruction MSE per epoch"]
    last = {trace["name"]: trace["y"][-1] for trace in curves["data"]}
    assert set(last) == set(table["setting"])
    for setting, mse in zip(table["setting"], table["recon MSE"], strict=True):
        assert last[setting] == pytest.approx(mse, rel=1e-3), setting        # the same number as the table
    frontier = next(f for t, f in figures.items() if t.startswith("The frontier"))
    names = [trace["name"] for trace in frontier["data"]]
    assert "Pareto front" in names and "learned nothing" in names and "k sweep of topk" in names
    assert any("holds the frontier" in c.value for c in at.caption)


def test_compare_page_needs_two_models():
    at = fresh("pages/compare.py")
    at.multiselect(key="cmp_models").set_value([shipped_key("ae")]).run()
    no_exception(at)
    assert any("at least two models" in i.value for i in at.info)


def test_a_checkpoint_removed_while_the_app_runs_falls_back_with_a_warning(tmp_path, monkeypatch):
    import shutil

    from explorer.app import catalog, models

    folder = tmp_path / "checkpoints"
    folder.mkdir()
    for name in ("ae", "vae"):
        shutil.copy(CHECKPOINT_DIR / f"{name}.pt", folder / f"{name}.pt")
    monkeypatch.setattr(catalog, "CHECKPOINT_DIR", folder)
    monkeypatch.setattr(models, "CHECKPOINT_DIR", folder)
    models._shared_entries.clear()
    at = fresh(model="vae")
    assert {m.label: m.value for m in at.metric}["Active model"] == "vae"
    (folder / "vae.pt").unlink()
    models._shared_entries.clear()              # what the 5-second TTL does on a live server
    at.run()
    no_exception(at)
    assert {m.label: m.value for m in at.metric}["Active model"] == "ae"
    assert any("no longer on disk" in w.value for w in at.sidebar.warning)
    models._shared_entries.clear()


def test_streamlit_still_has_the_legacy_pages_runner_the_app_looks_for():
    """legacy_pages.in_legacy_pages_run recognises Streamlit's legacy runner by name: an upgrade that
    renames it must fail here, not silently leave first visitors in the pages/ folder's mode."""
    from streamlit.runtime.scriptrunner import script_runner

    from explorer.app import legacy_pages

    assert callable(getattr(script_runner, legacy_pages.LEGACY_RUNNER, None))
    assert legacy_pages.in_legacy_pages_run() is False     # a plain call is not inside it
