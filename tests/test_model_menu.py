"""The sidebar's model menu in groups (shipped, saved, this browser's own, sweeps) with a filter that never
changes the active model, and a run trained on Train followed from any other page until its model is listed."""
from __future__ import annotations

import pytest
from apptest_support import server_like_pages
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from explorer import TrainSettings
from explorer.app import keys, store
from explorer.app.catalog import CHECKPOINT_DIR, FileEntry, file_digest
from explorer.app.jobs import TrainingJob
from explorer.app.model_menu import group_of, grouped, menu_options

APP = str(ROOT / "streamlit_app.py")


@pytest.fixture(autouse=True)
def _like_a_running_server():
    with server_like_pages():
        yield


def entry(key: str, origin: str, sweep: str | None = None) -> FileEntry:
    return FileEntry(key=key, label=key, variant="ae", dataset="mnist-5k", path=f"/x/{key}.pt", origin=origin,
                     sweep=sweep)


def test_groups_follow_who_may_see_a_model_and_sweeps_are_their_own():
    entries = {e.key: e for e in (entry("a", "shipped"), entry("s1", "shipped", sweep="λ sweep"),
                                  entry("mine", "trained"), entry("b", "saved"), entry("kept", "kept"),
                                  entry("s2", "swept", sweep="my sweep"))}
    assert [group_of(e) for e in entries.values()] == ["shipped", "sweeps", "mine", "saved", "mine", "sweeps"]
    assert grouped(entries) == {"shipped": ["a"], "saved": ["b"], "mine": ["mine", "kept"], "sweeps": ["s1", "s2"]}
    assert menu_options(entries, None, "a") == ["a", "b", "mine", "kept", "s1", "s2"]     # in group order
    assert menu_options(entries, "sweeps", "s2") == ["s1", "s2"]
    assert menu_options(entries, "sweeps", "a") == ["a", "s1", "s2"]      # the active one stays, first


def test_the_filter_narrows_the_menu_and_keeps_the_active_model():
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    active = at.session_state["active_model"]
    pills = at.sidebar.button_group[0]
    groups = [o.rsplit(" ", 1)[0] for o in pills.options]          # "Shipped 13": the group and its count
    assert groups[0] == "Shipped" and groups[-1] == "Sweeps"       # (other tests may have saved or trained)
    every = at.sidebar.selectbox(key="active_model").options
    pills.set_value("sweeps").run()
    narrowed = at.sidebar.selectbox(key="active_model").options
    assert at.session_state["active_model"] == active and narrowed[0] == every[0]     # ae, first
    assert len(narrowed) < len(every) and all("sweep" in o or "=" in o for o in narrowed[1:])
    assert not any("**ae · mnist-5k · shipped**" in c.value for c in at.sidebar.caption)     # shown whole above
    trial = sorted((CHECKPOINT_DIR / "sweeps").glob("*/*.pt"))[0]           # a long label: also shown whole
    at.sidebar.selectbox(key="active_model").set_value("file:" + file_digest(trial)).run()
    label = at.sidebar.selectbox(key="active_model").value and next(
        c.value for c in at.sidebar.caption if c.value.startswith("Sweeps: **"))
    assert trial.stem in label and len(label) > 32



def test_a_run_is_followed_from_another_page_and_its_model_listed_when_it_ends(digits):
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    path = store.new_trained_path(at.session_state[keys.BROWSER_ID], "ae")    # where Train would keep it
    job = TrainingJob("ae", {"latent_dim": 8, "hidden": "32"}, digits, TrainSettings(epochs=5000, batch_size=64),
                      [0, 1], store_path=path).start()
    at.session_state["train_job"] = job
    at.session_state["dataset"] = "digits"
    at.run()                                                       # Home, while it trains
    assert not at.exception
    assert any(p.text.startswith("Training ae: epoch") or "queued" in p.text for p in at.sidebar.get("progress"))
    assert not any("· trained" in o for o in at.sidebar.selectbox(key="active_model").options)
    job.stop()
    job.wait(300)
    assert job.status == "stopped"
    at.run()
    assert not at.exception
    assert any("finished training" in t.value for t in at.toast)
    listed = [o for o in at.sidebar.selectbox(key="active_model").options if "· trained" in o]
    assert len(listed) == 1 and listed[0].startswith("ae · digits · trained")
    at.run()
    assert not any("finished training" in t.value for t in at.toast)       # said once
