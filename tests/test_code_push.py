"""Push the code: the most active units of one image's code on sliders, *off* and *hold*, and the decoder's
picture of the pushed code — checked against the model's own decode, and on the Activations page."""
from __future__ import annotations

import base64

import numpy as np
import pytest
import torch
from apptest_support import server_like_pages
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from explorer import load_checkpoint
from explorer.app.catalog import CHECKPOINT_DIR, file_digest
from explorer.code_push import decode, pushed_code, units_to_push


def test_the_most_active_units_come_first_with_ranges_that_hold_zero_and_the_value():
    codes = np.array([[0.0, 2.0, 0.5, 0.0], [1.0, 4.0, 0.0, 0.0], [0.5, 3.0, 0.2, 0.0]], dtype=np.float32)
    picked = units_to_push(codes, codes[2], count=2, also=(3,))
    assert [u.unit for u in picked] == [1, 0, 3]                 # |3.0|, |0.5|, then the held one
    assert (picked[0].low, picked[0].high, picked[0].value) == (0.0, 4.0, 3.0)
    assert picked[2].high - picked[2].low == 1.0                  # a unit that never moves still gets room


def test_a_pushed_code_is_decoded_as_the_model_decodes_it():
    model = load_checkpoint(CHECKPOINT_DIR / "sparse_kl.pt")
    x = torch.rand(1, 784)
    with torch.no_grad():
        code = model.encode(x)[0].numpy()
    assert np.allclose(decode(model, code), model(x)[0].detach().numpy(), atol=1e-6)   # nothing pushed: x̂
    pushed = pushed_code(code, {3: 0.9, 5: 0.4}, off=frozenset({5, 7}))
    assert pushed[3] == pytest.approx(0.9) and pushed[5] == 0.0 and pushed[7] == 0.0 and code[3] != pushed[3]
    with torch.no_grad():
        expected = model.decode(torch.as_tensor(pushed)[None])[0].numpy()
    assert np.allclose(decode(model, pushed), expected, atol=1e-6)


def test_on_the_page_a_slider_pushes_a_unit_and_hold_keeps_it_for_the_next_image():
    with server_like_pages():
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
        at.run()
        at.sidebar.selectbox(key="active_model").set_value("file:" + file_digest(CHECKPOINT_DIR / "sparse_kl.pt")).run()
        at.switch_page("pages/activations.py")
        at.run()
        at.segmented_control(key="act_view").set_value("image").run()
        assert not at.exception
        sliders = [s for s in at.slider if s.label.startswith("unit ")]
        assert len(sliders) == 8
        before = [c.value for c in at.caption if c.value.startswith("Nothing pushed")]
        assert before
        first = sliders[0]
        unit = int(first.label.split()[1])
        first.set_value(first.min).run()
        assert any(c.value.startswith(f"Pushed: unit {unit} = ") for c in at.caption)
        hold = next(p for p in at.button_group if p.key and p.key.startswith("push_hold_"))
        hold.set_value([unit]).run()
        off = next(p for p in at.button_group if p.key and p.key.startswith("push_off_"))
        other = int(sliders[1].label.split()[1])
        off.set_value([other]).run()
        assert any(f"unit {other} off" in c.value for c in at.caption if c.value.startswith("Pushed:"))
        at.number_input(key=next(n.key for n in at.number_input if n.key.startswith("act_image_"))).set_value(5).run()
        assert not at.exception
        again = next(s for s in at.slider if s.label == f"unit {unit}")
        assert again.key.split("_")[-2] == "5" and again.value == pytest.approx(first.min)    # held on image 5


def length(values) -> int:
    """The length of a Plotly figure's array: a list, or a typed array (plotly 6+ sends {'dtype', 'bdata'})."""
    if isinstance(values, dict):
        return len(base64.b64decode(values["bdata"])) // np.dtype(values["dtype"]).itemsize
    return len(values)


def test_a_2d_codes_plane_is_decoded_on_a_grid_over_the_map():
    from explorer.code_push import decoded_plane

    model = load_checkpoint(CHECKPOINT_DIR / "vae-2d.pt")
    coords = np.array([[-1.0, 0.0], [2.0, 3.0], [0.5, -2.0]], dtype=np.float32)
    plane = decoded_plane(model, coords, steps=5)
    assert plane.points.shape == (25, 2) and plane.images.shape == (25, 784)
    assert plane.points[:, 0].min() < -1.0 and plane.points[:, 0].max() > 2.0      # the map's range, and more
    assert plane.points[:, 1].min() < -2.0 and plane.points[:, 1].max() > 3.0
    with torch.no_grad():
        expected = model.decode(torch.as_tensor(plane.points[7:8]))[0].numpy()
    assert np.allclose(plane.images[7], expected, atol=1e-6)


def test_the_vae_2d_raw_map_carries_its_decoded_plane_for_the_pointer():
    import json

    with server_like_pages():
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
        at.query_params["model"] = "vae-2d"
        at.query_params["map"] = "raw"
        at.switch_page("pages/latent.py")
        at.run()
        assert not at.exception
        figure = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if "raw code of" in c.proto.spec)
        plane = next(t for t in figure["data"] if t.get("name") == "decoded plane")
        points = sum(length(t["x"]) for t in figure["data"] if t.get("customdata") is not None)
        assert length(plane["x"]) == 24 * 24 and plane["meta"] == {"plane_offset": points}
        assert "customdata" not in plane and points == 2000
        assert any("decoder's picture of that place" in c.value for c in at.caption)
