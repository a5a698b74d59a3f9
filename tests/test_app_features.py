"""Activations' feature pages and dictionary under AppTest: a link opens a unit's page with the library's
numbers, its partners' buttons open theirs, and "All filters" draws the encoder filters and decoder atoms."""
from __future__ import annotations

import base64
import json

import pytest
from apptest_support import server_like_pages
from conftest import ROOT
from test_app import chart_values
from test_links import open_link

from explorer import load_checkpoint
from explorer.activations import activation_report, filters_as_images, unit_order
from explorer.feature_figures import numbered_tiles
from explorer.features import feature_report, read_dictionary

CHECKPOINTS = ROOT / "checkpoints"


@pytest.fixture(autouse=True)
def _like_a_running_server():
    with server_like_pages():
        yield


def captions(at) -> list[str]:
    return [c.value for c in at.caption] + [i.caption for e in at.get("image") for i in e.proto.imgs]


def charts(at) -> dict[str, dict]:
    return {chart.proto.id.rsplit("-", 1)[-1]: json.loads(chart.proto.spec) for chart in at.get("plotly_chart")}


def test_a_link_to_a_unit_opens_its_feature_page_and_its_partners_open_theirs(mnist5k):
    net = load_checkpoint(CHECKPOINTS / "topk.pt")
    feature = feature_report(net, mnist5k, 17)
    at = open_link("activations", model="topk", view="unit", unit="17")
    assert not at.exception and not at.toast
    assert at.segmented_control(key="act_view").value == "unit" and at.selectbox(key="act_unit").value == 17
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Fires on"] == (f"{feature.firing_rate:.0%}" if feature.firing_rate >= 0.1
                                   else f"{feature.firing_rate:.1%}")
    assert metrics["Largest z"] == f"{feature.bins[0].z_high:.3g}"
    shown = captions(at)
    assert "Decoder atom: what it adds to the logit, before the sigmoid" in shown      # topk.pt: a sigmoid decoder
    for b in feature.bins:                                                 # each quantile bin, with its own numbers
        assert any(f"[**{b.label}**] of its active values: z {b.z_low:.3g} to {b.z_high:.3g}, {b.count:,} images ("
                   in c for c in shown)
    assert feature.ranked_by == "jaccard"
    assert any("ranked by the Jaccard index J = |A_j ∩ A_k| / |A_j ∪ A_k|" in c for c in shown)
    partner_buttons = [b for b in at.button if b.key and b.key.startswith("act_partner_")]
    assert [b.label for b in partner_buttons] == [f"Unit {p.unit}" for p in feature.partners]
    first = feature.partners[0]
    assert f"J = {first.jaccard:.2f} · P({first.unit} | 17) = {first.given:.0%} · fires on {first.firing_rate:.0%}" \
        in shown
    partner_buttons[0].click().run()
    assert not at.exception
    assert at.selectbox(key="act_unit").value == first.unit and at.query_params["unit"] == str(first.unit)
    assert at.query_params["view"] == "unit"


def test_a_dense_code_ranks_partners_by_correlation_and_a_dead_unit_says_so(mnist5k):
    vae = open_link("activations", model="vae", view="unit", unit="2")
    assert not vae.exception
    feature = feature_report(load_checkpoint(CHECKPOINTS / "vae.pt"), mnist5k, 2, 0.01)   # the page's threshold
    assert feature.ranked_by == "correlation" and feature.nearly_always
    shown = captions(vae)
    assert [c for c in shown if c.startswith("r = ")] == [f"r = {p.correlation:+.2f}" for p in feature.partners]
    assert len(charts(vae)["unit_classes"]["data"]) == 1                   # active everywhere: mean activity only

    net = load_checkpoint(CHECKPOINTS / "jumprelu.pt")
    dead = [int(u) for u in activation_report(net, mnist5k).stats.dead_units]
    if not dead:
        pytest.skip("the shipped JumpReLU has no dead unit")
    at = open_link("activations", model="jumprelu", view="unit", unit=str(dead[0]))
    assert not at.exception
    assert any(f"Unit {dead[0]} is not active on any test image" in i.value for i in at.info)
    assert list(charts(at)) == ["unit_hist"]


def test_all_filters_draws_the_encoder_filters_and_the_decoder_atoms_numbered_by_unit(mnist5k):
    net = load_checkpoint(CHECKPOINTS / "topk.pt")
    order = [int(u) for u in unit_order(activation_report(net, mnist5k), "firing")]
    atlas = read_dictionary(net)
    at = open_link("activations", model="topk", view="filters")
    assert not at.exception
    drawn = charts(at)
    assert set(drawn) == {"act_filters_sheet", "act_atoms_sheet"}
    for name, weights in (("filters", atlas.filters), ("atoms", atlas.atoms)):
        image, tiles = drawn[f"act_{name}_sheet"]["data"]
        expected = numbered_tiles(filters_as_images(weights)[order], mnist5k.image_shape, [str(u) for u in order],
                                  ncols=7)
        assert image["source"] == "data:image/png;base64," + base64.b64encode(expected.png).decode()
        assert chart_values(tiles["customdata"]).tolist() == order
    assert [m.value for m in at.markdown if m.value.startswith("**")][:2] == [
        "**Encoder filters: what each unit reads**", "**Decoder atoms: what each unit adds**"]
    assert any("to the logit, before the sigmoid — this model has a sigmoid decoder" in c for c in captions(at))
