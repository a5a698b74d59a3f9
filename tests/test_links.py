"""Links that name a view: a link opens that model, dataset and page setting in a fresh session; bad
values fall back with a notice; the address follows the view; a student's own model is never linked."""
from __future__ import annotations

from apptest_support import server_like_pages
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from explorer import build_model
from explorer.app.catalog import file_digest


def open_link(page: str, **params: str) -> AppTest:
    """A fresh session opening …/<page>?params, as a browser following a link does."""
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    for name, value in params.items():
        at.query_params[name] = value
    if page != "home":
        at.switch_page(f"pages/{page}.py")
    at.run()
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_a_link_opens_its_model_and_unit():
    with server_like_pages():
        at = open_link("activations", model="sparse_kl", unit="17")
        assert not at.exception and not at.toast
        assert metrics(at)["Target ρ"] == "0.05"          # the sparse KL model is active
        assert at.selectbox(key="act_unit").value == 17
        assert at.query_params["model"] == "sparse_kl" and at.query_params["unit"] == "17"
        at.selectbox(key="act_unit").set_value(3).run()                    # the student moves on: it sticks
        assert at.selectbox(key="act_unit").value == 3 and at.query_params["unit"] == "3"


def test_links_name_sweep_members_latent_settings_reconstruction_choices_and_compared_models():
    with server_like_pages():
        latent = open_link("latent", model="sweeps/topk-k/topk-k=5", map="pca", points="500", seed="7", images="test")
        assert not latent.exception and not latent.toast
        assert latent.slider(key="lat_n_test_mnist-5k").value == 500 and latent.number_input(key="lat_seed").value == 7
        sweep_member = ROOT / "checkpoints" / "sweeps" / "topk-k" / "topk-k=5.pt"
        assert latent.sidebar.selectbox(key="active_model").value == "file:" + file_digest(sweep_member)
        rec = open_link("reconstructions", model="denoising", classes="3,8", noise="masking", level="0.5")
        assert not rec.exception and not rec.toast
        assert rec.multiselect(key="rec_classes").value == [3, 8] and rec.selectbox(key="rec_noise").value == "masking"
        assert rec.slider(key="rec_level_masking").value == 0.5
        cmp = open_link("compare", models="ae,topk,sweeps/jumprelu-lam/jumprelu-lam=1e-3")
        assert not cmp.exception
        assert list(cmp.dataframe[0].value["setting"]) == ["ae (defaults)", "topk (defaults)", "jumprelu (defaults)"]


def test_bad_values_fall_back_to_the_defaults_with_a_notice():
    with server_like_pages():
        at = open_link("activations", model="no-such-model", unit="999", dataset="imagenet")
        assert not at.exception
        notes = " ".join(t.value for t in at.toast)
        assert "model is not usable (there is no shipped or saved model 'no-such-model')" in notes
        assert "unit is not usable (999 is not between 0 and 31)" in notes
        assert "dataset is not usable ('imagenet' is not one of mnist-5k, digits, mnist, fashion-mnist)" in notes
        assert metrics(at)["Code units"] == "32"                           # the default ae on mnist-5k
        latent = open_link("latent", map="spiral", points="many", seed="-4")
        assert not latent.exception and latent.session_state["lat_method"] == "pca"
        assert len(latent.toast) == 3


def test_a_students_own_model_never_goes_into_a_link():
    from explorer.app.catalog import TrainedEntry

    with server_like_pages():
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
        at.run()
        mine = build_model("ae", input_dim=784)
        at.session_state["session_models"] = {"session:mine": TrainedEntry(
            key="session:mine", label="my ae", variant="ae", dataset="mnist-5k", model=mine)}
        at.run()
        at.sidebar.selectbox(key="active_model").set_value("session:mine").run()
        assert not at.exception and metrics(at)["Active model"] == "ae"
        assert "model" not in at.query_params and at.query_params["dataset"] == "mnist-5k"
