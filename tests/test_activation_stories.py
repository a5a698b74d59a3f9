"""The Activations page tells its own story: dead and always-on units marked in every per-unit chart with
this code's rule, log axes ticked at powers of ten only, and numbered tiles that open their unit."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from apptest_support import server_like_pages
from conftest import ROOT
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1.element_tree import Block, UnknownElement, Widget
from test_app import chart_values, charts_by_key
from test_links import open_link

from explorer import load_checkpoint
from explorer.activations import UnitMarks, activation_report, unit_marks, unit_order
from explorer.feature_figures import feature_histogram
from explorer.features import QuantileBin
from explorer.figures import (
    ALWAYS_ON_COLOR,
    DEAD_COLOR,
    TEST_COLOR,
    TRAIN_COLOR,
    UnitPanel,
    code_bars,
    sparsity_distributions,
    unit_histogram,
    unit_histograms,
    unit_panels,
)
from explorer.metrics import code_statistics
from explorer.variants.base import GAUSSIAN_CODE, RELU_CODE, SIGMOID_CODE

CHECKPOINTS = ROOT / "checkpoints"


def legend(fig: dict) -> list[str]:
    """The names of a figure's (JSON) traces that show in its legend."""
    return [t["name"] for t in fig["data"] if t.get("showlegend") and fig["layout"].get("showlegend")]


# --- what dead means, per code kind ------------------------------------------------------------------------

def test_a_relu_units_dead_when_exactly_zero_and_a_sigmoids_when_never_above_its_threshold():
    relu = torch.tensor([[0.0, 1.0, 0.5], [0.0, 2.0, 0.0], [0.0, 0.3, 0.0]])     # unit 0 dead, unit 1 always on
    marks = unit_marks(code_statistics(relu, RELU_CODE), RELU_CODE)
    assert marks.dead == (0,) and marks.always_on == (1,)
    assert marks.dead_rule == "exactly 0 on every test image"
    assert marks.always_on_rule == "|z_j| > 0 on every test image"
    assert [marks.kind(u) for u in range(3)] == ["dead", "always on", "live"]
    raised = unit_marks(code_statistics(relu, RELU_CODE, threshold=0.4), RELU_CODE)
    assert raised.dead == (0,) and raised.dead_rule == "never |z_j| > 0.4 on a test image"
    assert "`evaluate` uses |z_j| > 0" in raised.dead_meaning               # the slider moved off the default

    sigmoid = torch.tensor([[0.06, 0.9], [0.04, 0.2], [0.05, 0.7]])             # unit 0: ρ̂ = 0.05, never > 0.5
    marks = unit_marks(code_statistics(sigmoid, SIGMOID_CODE, rho=0.05), SIGMOID_CODE)
    assert marks.dead == (0,) and marks.dead_rule == "never |z_j| > 0.5 on a test image"
    assert "its mean activation ρ̂ⱼ can still be near ρ, because ρ̂ⱼ averages those values below 0.5" \
        in marks.dead_meaning


def test_a_gaussian_code_marks_collapsed_units_and_never_calls_a_unit_always_on():
    codes = torch.randn(200, 3)
    codes[:, 2] = 0.01                                                        # collapsed to the prior
    stats = code_statistics(codes, GAUSSIAN_CODE)
    assert stats.always_on_units == [0, 1]               # the stats' own sense: active on every image …
    marks = unit_marks(stats, GAUSSIAN_CODE)
    assert marks.dead == (2,) and marks.always_on == ()  # … which would mark every live unit
    assert marks.dead_rule == "Var over images of z_j ≤ 0.01" and "collapsed to the prior" in marks.dead_meaning


def test_the_shipped_sparse_kl_at_a_high_threshold_has_dead_units_whose_mean_is_near_rho(mnist5k):
    """The confusion the caption answers: dead by the threshold, yet ρ̂ⱼ near ρ."""
    report = activation_report(load_checkpoint(CHECKPOINTS / "sparse_kl.pt"), mnist5k, threshold=0.9)
    dead = list(report.marks.dead)
    assert dead and (report.mean_activation[dead] < 3 * report.rho).all()
    assert "ρ̂ⱼ can still be near ρ" in report.marks.meaning and "below 0.9" in report.marks.meaning


# --- every per-unit chart marks them -----------------------------------------------------------------------

MARKS = UnitMarks(dead=(1,), always_on=(3,), dead_rule="exactly 0 on every test image",
                  always_on_rule="|z_j| > 0 on every test image", dead_meaning="Dead = …", always_on_meaning="")


def test_the_per_unit_bars_colour_dead_and_always_on_units_and_the_legend_names_the_rule():
    order = np.array([3, 2, 1, 0])
    fig = unit_panels([UnitPanel("ρ̂ⱼ", "ρ̂ⱼ", np.array([0.1, 0.0, 0.3, 0.9])),
                       UnitPanel("KL", "KL", np.array([0.2, 5.0, 0.1, 3.0]))], order, MARKS).to_plotly_json()
    bars = [t for t in fig["data"] if t["type"] == "bar"]
    assert [list(b["marker"]["color"]) for b in bars] == [[ALWAYS_ON_COLOR, TRAIN_COLOR, DEAD_COLOR, TRAIN_COLOR]] * 2
    assert list(bars[0]["customdata"]) == [" (always on)", "", " (dead)", ""]          # said in the hover too
    assert legend(fig) == ["dead (1 unit): exactly 0 on every test image",
                           "always on (1 unit): |z_j| > 0 on every test image"]
    crosses = [t for t in fig["data"] if t["type"] == "scatter" and not t.get("showlegend")]
    assert [(list(c["x"]), list(c["y"]), c["yaxis"]) for c in crosses] == [(["1"], [0], "y"), (["1"], [0], "y2")]
    assert all(c["marker"]["line"]["color"] == DEAD_COLOR for c in crosses)    # a 0 bar shows no colour
    keys = [t for t in fig["data"] if t.get("showlegend")]
    assert [k["marker"]["color"] for k in keys] == [DEAD_COLOR, ALWAYS_ON_COLOR]
    assert fig["layout"]["legend"]["itemclick"] is False           # a key, not a switch
    plain = unit_panels([UnitPanel("ρ̂ⱼ", "ρ̂ⱼ", np.ones(4))], order).to_plotly_json()
    assert legend(plain) == [] and len(plain["data"]) == 1          # nothing marked: no legend


def test_the_histogram_grid_draws_and_labels_each_marked_unit_in_its_colour():
    counts = np.ones((4, 30), dtype=int)
    edges = np.tile(np.linspace(0, 1, 31), (4, 1))
    fig = unit_histograms(counts, edges, np.array([0, 1, 2, 3]), False, cols=2, highlight=2, marks=MARKS)
    colours = np.asarray(fig.data[0].marker.color).reshape(4, 30)
    assert (colours[1] == DEAD_COLOR).all() and (colours[3] == ALWAYS_ON_COLOR).all()
    assert (colours[2] == TEST_COLOR).all() and (colours[0] == TRAIN_COLOR).all()     # the chosen unit wins
    labels = fig.data[2]
    assert list(labels.text) == ["unit 0", "unit 1", "unit 2", "unit 3"]
    assert list(labels.textfont.color)[1] == DEAD_COLOR and list(labels.textfont.color)[3] == ALWAYS_ON_COLOR
    assert legend(fig.to_plotly_json()) == ["dead (1 unit): exactly 0 on every test image",
                                            "always on (1 unit): |z_j| > 0 on every test image"]
    shown = unit_histograms(counts, edges, np.array([0, 2]), False, marks=MARKS)      # neither on the chart
    assert legend(shown.to_plotly_json()) == []


def test_one_images_code_bars_and_the_firing_rates_mark_them_too():
    fig = code_bars(np.array([0.5, 0.0, 0.2, 0.9]), "one image", marks=MARKS)
    assert list(fig.data[0].marker.color) == [TRAIN_COLOR, DEAD_COLOR, TRAIN_COLOR, ALWAYS_ON_COLOR]
    assert list(fig.data[1].x) == [1] and fig.data[1].hovertemplate.startswith("unit %{x} (dead)")
    assert len(legend(fig.to_plotly_json())) == 2

    firing = np.array([0.02, 0.0, 0.3, 1.0])
    dist = sparsity_distributions(firing, np.array([1, 2, 2, 3]), 4, MARKS).to_plotly_json()
    everything, _, always = dist["data"][:3]
    assert np.allclose(chart_values(always["x"]), [0.0]) and always["marker"]["color"] == ALWAYS_ON_COLOR
    assert always["xbins"] == everything["xbins"]                   # drawn over its own bin, exactly
    assert legend(dist) == ["dead (1 unit): exactly 0 on every test image (rate 0, not on a log axis)",
                            "always on (1 unit): |z_j| > 0 on every test image"]


# --- readable log axes -------------------------------------------------------------------------------------

@pytest.mark.parametrize("most", [7, 80, 3000])
def test_a_log_count_axis_is_ticked_at_powers_of_ten_only_over_a_decade_at_least(most):
    counts = np.array([most, 40, 3, 0, 1])
    axis = unit_histogram(counts, np.linspace(0, 1, 6), 4, True).layout.yaxis
    assert axis.type == "log" and axis.dtick == 1 and axis.exponentformat == "none"
    low, high = axis.range
    assert low <= 0 and high >= max(1, np.log10(most))          # 1 and 10 at least, and the tallest bar
    assert unit_histogram(counts, np.linspace(0, 1, 6), 4, False).layout.yaxis.type != "log"
    bins = [QuantileBin(0.9, 1.0, 1, 0.8, 1.0, np.array([0]), np.array([1.0]), np.array([1]))]
    assert feature_histogram(counts, np.linspace(0, 1, 6), 4, True, None, bins).layout.yaxis.dtick == 1


def test_the_firing_rate_axis_is_labelled_in_percent_at_each_power_of_ten():
    firing = np.array([0.004, 0.03, 0.06, 0.2])
    axis = sparsity_distributions(firing, np.array([1, 2]), 4).layout.xaxis
    assert list(axis.tickvals) == [-3, -2, -1, 0] and list(axis.ticktext) == ["0.1 %", "1 %", "10 %", "100 %"]
    assert axis.range[0] <= -3 and axis.range[1] >= 0                # from the decade below to the one above
    narrow = sparsity_distributions(np.array([0.03, 0.06]), np.array([1]), 2).layout.xaxis
    assert list(narrow.tickvals) == [-2, -1]                        # inside one decade: both ends still ticked
    assert narrow.range[0] <= -2 and narrow.range[1] >= -1


# --- the page ------------------------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def _like_a_running_server():
    with server_like_pages():
        yield


def test_the_kl_and_histogram_views_mark_the_dead_units_and_say_what_dead_means_here(mnist5k):
    report = activation_report(load_checkpoint(CHECKPOINTS / "contractive.pt"), mnist5k)
    dead, always = list(report.marks.dead), list(report.marks.always_on)
    assert dead and always                                              # the shipped contractive AE has both
    at = open_link("activations", model="contractive", view="kl")
    assert not at.exception
    chart = charts_by_key(at)["per_unit"]
    colours = np.asarray(chart["data"][0]["marker"]["color"])           # the ρ̂ⱼ bars, in unit order
    assert set(np.flatnonzero(colours == DEAD_COLOR)) == set(dead)
    assert set(np.flatnonzero(colours == ALWAYS_ON_COLOR)) == set(always)
    assert legend(chart)[0] == f"dead ({len(dead)} units): exactly 0 on every test image"
    assert report.marks.meaning in [c.value for c in at.caption]

    at.segmented_control(key="act_view").set_value("units").run()
    bars = charts_by_key(at)["small_multiples"]["data"][0]
    custom = chart_values(bars["customdata"]).reshape(-1, 4)
    coloured = np.asarray(bars["marker"]["color"])
    assert set(custom[coloured == DEAD_COLOR, 0].astype(int)) == set(dead)
    assert report.marks.meaning in [c.value for c in at.caption]

    at.segmented_control(key="act_view").set_value("firing").run()
    assert legend(charts_by_key(at)["distributions"])[0].startswith(f"dead ({len(dead)} units)")


class ChartClick(Widget):
    """A Plotly chart drawn with on_select, clicked on one point: AppTest knows such a chart only as an
    unknown element, so it sends no selection; this sends the one a browser sends for that click."""

    def __init__(self, chart: UnknownElement, point: dict) -> None:
        super().__init__(chart.proto, chart.root)
        self.type = "plotly_chart"
        self.point = point

    @property
    def value(self) -> dict:
        return {"selection": {"points": [self.point], "point_indices": [self.point["point_index"]],
                              "box": [], "lasso": []}}

    @property
    def _widget_state(self) -> WidgetState:
        state = WidgetState()
        state.id = self.id
        state.string_value = json.dumps(self.value)
        return state


def click_chart(block: Block, key: str, point: dict) -> bool:
    """Put a click on point into the chart with this key, wherever it is under block."""
    for slot, child in block.children.items():
        if isinstance(child, UnknownElement) and child.type == "plotly_chart" and child.key == key:
            block.children[slot] = ChartClick(child, point)
            return True
        if isinstance(child, Block) and click_chart(child, key, point):
            return True
    return False


def test_a_numbered_tile_in_all_filters_opens_its_units_feature_page(mnist5k):
    order = [int(u) for u in unit_order(activation_report(load_checkpoint(CHECKPOINTS / "topk.pt"), mnist5k),
                                        "firing")]
    at = open_link("activations", model="topk", view="filters")
    assert not at.exception
    sheet = charts_by_key(at)["act_atoms_sheet"]
    tiles = sheet["data"][1]
    third = int(chart_values(tiles["customdata"])[2])
    assert third == order[2] and chart_values(tiles["text"])[2].startswith(f"unit {third} ·")
    assert click_chart(at._tree, "act_atoms_sheet", {"curve_number": 1, "point_number": 2, "point_index": 2,
                                                     "customdata": third})
    at.run()
    assert not at.exception
    assert at.segmented_control(key="act_view").value == "unit" and at.selectbox(key="act_unit").value == third
    assert at.query_params["view"] == "unit" and at.query_params["unit"] == str(third)


def test_a_dead_units_feature_page_says_what_dead_means_for_its_code(mnist5k):
    report = activation_report(load_checkpoint(CHECKPOINTS / "jumprelu.pt"), mnist5k)
    if not report.marks.dead:
        pytest.skip("the shipped JumpReLU has no dead unit")
    at = open_link("activations", model="jumprelu", view="unit", unit=str(report.marks.dead[0]))
    assert not at.exception
    assert any(report.marks.dead_meaning in i.value for i in at.info)
