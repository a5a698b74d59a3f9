"""Reconstructions and Compare in front of a class: a denoiser opens on its own training noise even when the
tab showed another model first, the worst tiles under noise show original / noisy / reconstruction, Compare's
table opens on a few columns (the rest on request), the trade-off chart leaves crowded points to hover text,
and a first look at new models shows their evaluation's progress, not a faded chart of the last ones."""
from __future__ import annotations

import io
import uuid

import pytest
from apptest_support import server_like_pages
from PIL import Image
from streamlit.testing.v1 import AppTest
from test_app import fresh, no_exception, plotly_figures, shipped_key
from test_links import open_link

import explorer.figures
from explorer import load_checkpoint
from explorer.app import caches, evaluating, models
from explorer.app.catalog import CHECKPOINT_DIR
from explorer.compare import Point
from explorer.figures import tradeoff
from explorer.point_labels import label_places, short_labels

DEFAULT_COLUMNS = ["setting", "recon MSE", "FVU", "mean L0", "dead fraction"]


@pytest.fixture(autouse=True)
def _like_a_running_server():
    with server_like_pages():
        yield


def make_active(at: AppTest, stem: str) -> None:
    """Pick checkpoints/<stem>.pt in the sidebar, as a student does with the page open."""
    at.sidebar.selectbox(key="active_model").set_value(shipped_key(stem)).run()
    no_exception(at)


# -- Reconstructions -----------------------------------------------------------------------------------------
def test_the_noise_follows_the_active_model_and_keeps_the_students_choice():
    at = fresh("pages/reconstructions.py")                   # the plain ae: no training noise
    assert at.selectbox(key="rec_noise").value == "none"
    make_active(at, "denoising")                              # the same tab, now the denoiser
    assert at.selectbox(key="rec_noise").value == "gaussian"
    trained = load_checkpoint(CHECKPOINT_DIR / "denoising.pt").training_noise()
    assert at.slider(key="rec_level_gaussian").value == pytest.approx(trained.level)
    at.selectbox(key="rec_noise").set_value("masking").run()
    next(b for b in at.button if b.label == "Reshuffle").click().run()
    assert at.selectbox(key="rec_noise").value == "masking"   # the student's choice, while the model stays
    make_active(at, "ae")
    assert at.selectbox(key="rec_noise").value == "none"


def test_a_links_noise_wins_over_the_training_noise():
    at = open_link("reconstructions", model="denoising", noise="none")
    no_exception(at)
    assert at.selectbox(key="rec_noise").value == "none"


@pytest.fixture
def png_rows(monkeypatch) -> list[tuple[int, int, bytes]]:
    """Every rows_png the page makes: (rows stacked, images per row, the PNG)."""
    made: list[tuple[int, int, bytes]] = []
    original = explorer.figures.rows_png

    def recording(rows, image_shape, scale=3):
        png = original(rows, image_shape, scale)
        made.append((len(rows), len(rows[0]), png))
        return png

    monkeypatch.setattr(explorer.figures, "rows_png", recording)
    return made


def image_size(png: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(png)).size


def worst_caption(at: AppTest) -> str:
    return next(c.value for c in at.caption if c.value.startswith("Each tile:"))


def test_under_noise_the_worst_tiles_show_original_noisy_and_reconstruction(png_rows):
    at = fresh("pages/reconstructions.py", model="denoising")
    no_exception(at)
    assert at.selectbox(key="rec_noise").value == "gaussian"
    assert "original (top), the noisy input the model saw (middle) and its reconstruction (bottom)" \
        in worst_caption(at)
    tiles = [png for rows, n, png in png_rows if n == 1]
    assert len(tiles) == 12
    for png in tiles:                                         # one image wide, three high
        width, height = image_size(png)
        assert round(height / width) == 3
    rows, n, download = png_rows[-1]                          # the download: the twelve, in three rows
    assert (rows, n) == (3, 12)

    png_rows.clear()
    at.selectbox(key="rec_noise").set_value("none").run()
    assert worst_caption(at) == "Each tile: the original (top) over its reconstruction (bottom)."
    width, height = image_size(next(png for rows, n, png in png_rows if n == 1))
    assert round(height / width) == 2


# -- Compare -------------------------------------------------------------------------------------------------
def test_compares_table_opens_on_a_few_columns_and_shows_the_rest_on_request():
    at = fresh("pages/compare.py")
    no_exception(at)
    assert list(at.dataframe[0].value.columns) == DEFAULT_COLUMNS
    more = at.multiselect(key="cmp_columns")
    assert {"decoder", "explained variance", "active when", "L2 ratio", "train seconds"} <= set(more.options)
    assert not set(more.options) & set(DEFAULT_COLUMNS)
    more.set_value(["L2 ratio", "decoder"]).run()
    assert list(at.dataframe[0].value.columns) == ["setting", "decoder", "recon MSE", "FVU", "mean L0",
                                                   "dead fraction", "L2 ratio"]     # in the table's own order
    at.multiselect(key="cmp_columns").set_value(at.multiselect(key="cmp_columns").options).run()
    every = at.dataframe[0].value.columns
    assert len(every) == len(DEFAULT_COLUMNS) + len(more.options)


def crowd() -> list[Point]:
    """Three models of one sweep almost on top of each other, and one far from them."""
    return [Point("λ sweep of sparse_l1", f"sparse_l1 λ={lam}", x, y, False)
            for lam, x, y in [("0.0001", 20.0, 0.0200), ("0.0002", 20.3, 0.0201), ("0.0003", 20.6, 0.0202),
                              ("0.003", 2.0, 0.0600)]]


def test_the_trade_off_labels_only_points_with_room_and_names_every_point_on_hover():
    fig = tradeoff(crowd(), "mean L0")
    line = next(t for t in fig.data if t.name == "λ sweep of sparse_l1")
    shown = dict(zip(line.hovertext, line.text, strict=True))
    assert set(shown) == {p.setting for p in crowd()}          # every model named on hover
    crowded = [shown[f"sparse_l1 λ={lam}"] for lam in ("0.0001", "0.0002", "0.0003")]
    assert sum(bool(t) for t in crowded) <= 1                  # no labels piled on one another
    assert shown["sparse_l1 λ=0.003"] == "λ=0.003"             # the lone point keeps its label, less the variant
    assert all("%{hovertext}" in t.hovertemplate for t in fig.data if t.name == line.name)


def test_label_places_keep_labels_inside_the_plot_and_apart():
    xs, ys = [0.0, 10.0, 20.0, 20.1], [0.07, 0.03, 0.014, 0.0141]
    places = label_places(xs, ys, ["λ=0.003", "λ=0.001", "λ=0", "λ=0.00001"])
    assert places[0] is not None and places[0].startswith(("middle", "bottom"))   # the top point: not above
    assert places[1] is not None and places[2:].count(None) == 1
    assert short_labels([Point("ae", "ae (defaults)", 1.0, 1.0, False)]) == ["ae (defaults)"]   # alone: as is


def test_a_first_look_at_new_models_shows_progress_and_no_stale_chart(monkeypatch):
    texts: list[str] = []
    original = evaluating.progress_text

    def recording(done: int, total: int, label: str) -> str:
        texts.append(original(done, total, label))
        return texts[-1]

    monkeypatch.setattr(evaluating, "progress_text", recording)
    monkeypatch.setattr(caches, "metrics_ready", lambda *args: False)   # as on a server that never saw them
    at = fresh("pages/compare.py")
    no_exception(at)
    chosen = at.multiselect(key="cmp_models").value
    entries = models.model_entries()
    labels = [entries[k].label for k in chosen]
    assert [t for t in texts if t.startswith("Evaluating 1 of")][-1] == \
        f"Evaluating 1 of {len(chosen)} on the test split: {labels[0]}…"
    assert texts[-1] == f"Evaluating {len(chosen)} of {len(chosen)} on the test split: {labels[-1]}…"
    assert not at.get("progress")                             # the bar gave way to the page …
    assert list(at.dataframe[0].value["setting"])[0].startswith("sparse_l1")       # … and its table
    assert any(f["layout"]["title"]["text"].startswith("The trade-off") for f in plotly_figures(at))


def test_evaluated_models_are_ready_and_need_no_progress(mnist5k):
    key = f"test-{uuid.uuid4()}"                              # a model key this server has never evaluated
    model = load_checkpoint(CHECKPOINT_DIR / "topk.pt")
    assert not caches.metrics_ready(key, mnist5k.name, "cpu")
    caches.metrics(key, model, mnist5k.name, "cpu")
    assert caches.metrics_ready(key, mnist5k.name, "cpu")


def test_evaluate_reports_each_model_before_evaluating_it(mnist5k):
    entries = models.model_entries()
    chosen = [shipped_key("topk"), shipped_key("mp")]
    reports: list[tuple[int, int, str]] = []
    evaluating.evaluate(chosen, mnist5k, lambda done, total, label: reports.append((done, total, label)))
    assert reports == [(0, 2, entries[chosen[0]].label), (1, 2, entries[chosen[1]].label)]
    assert evaluating.pending(chosen, mnist5k) == []
