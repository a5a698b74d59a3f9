"""The Latent page tells its own story: a click on a map point chooses the image the neighbours and the
walk are about (the walk first crosses from one class to another), the drawn digit is a large labelled
star on the map with its pad beside it, and a caption says a t-SNE map is kept only once it is."""
from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from apptest_support import server_like_pages
from conftest import ROOT
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block, Column

from explorer import load_checkpoint
from explorer.app.catalog import CHECKPOINT_DIR, file_digest
from explorer.latent import (
    CodeSample,
    ImageRef,
    Projection,
    code_sample,
    default_walk,
    map_caption,
    neighbours_of,
    sample_ref,
)

TEST_BOX, FROM_BOX, TO_BOX = "lat_chosen_mnist-5k", "lat_start_mnist-5k", "lat_end_mnist-5k"


@pytest.fixture(autouse=True)
def _like_a_running_server():
    with server_like_pages():
        yield


@pytest.fixture(scope="module")
def page_sample(mnist5k) -> CodeSample:
    """The sample the page maps by default (2,000 images of train + test, seed 0, the shipped ae)."""
    return code_sample(load_checkpoint(CHECKPOINT_DIR / "ae.pt"), mnist5k, 2000, "all", seed=0)


def latent_page(model: str | None = None, drawing: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.run()
    if model:
        at.sidebar.selectbox(key="active_model").set_value("file:" + file_digest(CHECKPOINT_DIR / f"{model}.pt")).run()
    if drawing:
        from explorer.app import keys
        at.session_state[keys.SKETCH_IMAGE] = drawing
    at.switch_page("pages/latent.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def click(at: AppTest, *rows: int, lasso: bool = False) -> AppTest:
    """What the browser sends when points of the map are clicked (or lassoed), then the rerun."""
    points = [{"curve_number": 0, "point_number": row, "point_index": row, "x": 0.0, "y": 0.0, "customdata": row}
              for row in rows]
    drawn = [{"x": [0, 1, 1], "y": [0, 0, 1]}] if lasso else []
    at.session_state["lat_map_2"] = {"selection": {"points": points, "point_indices": list(rows), "box": [],
                                                   "lasso": drawn}}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def captions(at: AppTest) -> list[str]:
    return [image.caption for element in at.get("image") for image in element.proto.imgs]


def chosen_caption(at: AppTest) -> str:
    """The caption under the neighbours' image: what that image is."""
    return next(c for c in captions(at) if c.startswith(("test #", "train #")))


def walk_ends(at: AppTest) -> tuple[str, str]:
    walk = next(c for c in captions(at) if c.startswith("Left: "))
    left, right = walk.removeprefix("Left: ").split(" · then the decoded straight line between their codes · right: ")
    return left, right


def about(sample: CodeSample, names: tuple[str, ...], row: int) -> str:
    return f"{sample_ref(sample, row)} · class {names[sample.labels[row]]}"


def test_a_click_on_the_map_chooses_the_neighbours_image_and_the_walks_end(page_sample, mnist5k):
    at = latent_page()
    names = mnist5k.class_names
    start, end = walk_ends(at)
    neighbours_before = next(c for c in captions(at) if c.startswith("The 10 images of the map nearest"))
    train_row = int(np.flatnonzero((page_sample.split == "train") & (page_sample.labels == 7))[3])
    click(at, train_row)
    assert chosen_caption(at) == about(page_sample, names, train_row)
    neighbours = next(c for c in captions(at) if c.startswith("The 10 images of the map nearest"))
    assert neighbours != neighbours_before and f"nearest to {sample_ref(page_sample, train_row)} " in neighbours
    assert walk_ends(at) == (end, about(page_sample, names, train_row))      # the end before is now the start
    # A training image has no test number: its boxes are empty, their placeholder naming it.
    box = at.number_input(key=TEST_BOX)
    assert box.value is None and box.proto.placeholder == str(sample_ref(page_sample, train_row))
    assert at.number_input(key=TO_BOX).value is None
    assert any(c.value.startswith(f"You clicked {about(page_sample, names, train_row)}") for c in at.caption)

    # The selection lives on from run to run: another click elsewhere on the page is no second click.
    at.slider(key="lat_steps").set_value(5).run()
    assert walk_ends(at) == (end, about(page_sample, names, train_row)) and start != end
    at.number_input(key=TEST_BOX).set_value(17).run()
    assert chosen_caption(at).startswith("test #17 ")
    at.slider(key="lat_steps").set_value(6).run()
    assert chosen_caption(at).startswith("test #17 ")                # the old click does not come back

    test_row = int(np.flatnonzero((page_sample.split == "test") & (page_sample.labels == 3))[0])
    click(at, test_row)
    assert walk_ends(at) == (about(page_sample, names, train_row), about(page_sample, names, test_row))
    assert chosen_caption(at) == about(page_sample, names, test_row)
    assert at.number_input(key=TEST_BOX).value == page_sample.index[test_row]
    assert at.number_input(key=TO_BOX).value == page_sample.index[test_row]
    assert at.number_input(key=FROM_BOX).value is None


def test_a_lasso_shows_its_images_and_chooses_none(page_sample):
    at = latent_page()
    chosen = chosen_caption(at)
    click(at, *range(0, 400, 10), lasso=True)
    assert any(c.startswith("40 selected") for c in captions(at))
    assert chosen_caption(at) == chosen and not any(c.value.startswith("You clicked") for c in at.caption)


def test_the_number_boxes_choose_test_images_by_their_number(mnist5k):
    at = latent_page()
    at.number_input(key=TEST_BOX).set_value(17).run()
    assert chosen_caption(at) == f"test #17 · class {mnist5k.class_names[int(mnist5k.test_y[17])]}"
    at.number_input(key=FROM_BOX).set_value(42).run()
    assert walk_ends(at)[0] == f"test #42 · class {mnist5k.class_names[int(mnist5k.test_y[42])]}"
    assert chosen_caption(at).startswith("test #17 ")                # each box chooses its own image


def test_the_default_walk_goes_from_one_class_to_another(mnist5k):
    at = latent_page()
    start, end = walk_ends(at)
    a, b = default_walk(mnist5k.test_y.numpy())
    names = mnist5k.class_names
    assert (start, end) == (f"test #{a} · class {names[int(mnist5k.test_y[a])]}",
                            f"test #{b} · class {names[int(mnist5k.test_y[b])]}")
    assert start.split(" · ")[1] != end.split(" · ")[1]
    assert (at.number_input(key=FROM_BOX).value, at.number_input(key=TO_BOX).value) == (a, b)
    assert mnist5k.test_y[a] == 0 and mnist5k.test_y[b] == 1            # the first 0 and the first 1


def test_default_walk_and_neighbours_of_by_hand():
    assert default_walk(np.array([3, 3, 1, 2, 1, 2])) == (2, 3)           # the first 1, then the first 2
    assert default_walk(np.array([4, 4, 4])) == (0, 1)
    codes = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 3.0], [0.5, 0.0]])
    sample = CodeSample(codes, np.zeros(4, int), np.array(["test", "test", "train", "train"]),
                        np.array([5, 6, 5, 9]), np.zeros((4, 1)))
    rows, distances = neighbours_of(sample, codes[0], ImageRef("test", 5), 2)
    assert list(rows) == [3, 1] and list(distances) == [0.5, 1.0]        # itself left out …
    rows, _ = neighbours_of(sample, codes[0], ImageRef("train", 5), 2)
    assert list(rows) == [0, 3]                                            # … and only itself


def a_seven() -> str:
    from PIL import Image

    ink = np.zeros((280, 280), dtype=np.uint8)
    ink[40:60, 60:220] = 255
    for row in range(60, 240):
        ink[row, 200 - (row - 60) // 2: 220 - (row - 60) // 2] = 255
    buffer = io.BytesIO()
    Image.fromarray(ink).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def test_the_drawn_digit_is_a_large_labelled_star_on_the_map_its_pad_beside_it():
    at = latent_page(drawing=a_seven())
    figure = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if "codes (32-D)" in c.proto.spec)
    (star,) = [trace for trace in figure["data"] if trace.get("name") == "your digit"]
    assert star["marker"]["symbol"] == "star" and star["marker"]["size"] >= 24
    assert star["marker"]["line"]["width"] >= 2 and star["marker"]["line"]["color"] != star["marker"]["color"]
    assert "text" in star["mode"] and star["text"] == ["your digit"] and star.get("showlegend") is not False
    assert "placed exactly, on the PCA axes" in star["hovertext"][0]
    # The pad (its canvas and upload box) is in the column beside the map's, not in a section below it.
    row = next(block for block in at.main if isinstance(block, Block) and len(block.children) == 2
               and all(isinstance(column, Column) for column in block.children.values())
               and any("codes (32-D)" in chart.proto.spec for chart in block.children[0].get("plotly_chart")))
    assert [u.label for u in row.children[1].get("file_uploader")] == ["…or upload a picture of a digit"]
    assert not row.children[0].get("file_uploader")
    assert any("Its code:" in c.proto.spec for c in at.get("plotly_chart"))     # the digit through the model


def test_a_t_sne_caption_says_kept_only_once_the_map_is_kept():
    coords = np.zeros((3, 2))
    running = map_caption(Projection(coords, "tsne", None, iteration=50, iterations=750), 30.0)
    assert running is not None and running.startswith("Running: iteration 50 of 750")
    assert "kept" not in running
    final = map_caption(Projection(coords, "tsne", None, iteration=750, iterations=750), 30.0)
    assert final is not None and final.startswith("t-SNE (openTSNE) after 750 iterations at perplexity 30")
    assert "made once and kept" in final
    assert map_caption(Projection(coords, "pca", np.ones(2) / 2), 30.0) is None
