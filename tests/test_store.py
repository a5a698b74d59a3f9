"""A browser's own models on disk: where they go, what a name may be, and the cleanup policy."""
from __future__ import annotations

import os
import time
import uuid

import pytest

from explorer.app import store


@pytest.fixture
def state(tmp_path, monkeypatch):
    monkeypatch.setattr(store, "STATE_DIR", tmp_path)
    return tmp_path


def test_ids_are_checked_so_no_path_can_escape(state):
    good = uuid.uuid4().hex
    assert store.folder(good) == state / good
    for bad in ("../etc", "..", "a" * 31, good.upper(), "", good + "/x"):
        with pytest.raises(ValueError, match="not a browser id"):
            store.folder(bad)


def test_only_the_newest_trained_models_are_kept(state):
    browser = uuid.uuid4().hex
    paths = []
    for i in range(store.MAX_TRAINED + 3):
        path = store.new_trained_path(browser, "ae")
        store.write_new(path, b"model %d" % i)
        os.utime(path, (time.time() - 1000 + i, time.time() - 1000 + i))   # written one after another
        paths.append(path)
    gone = store.prune_trained(browser)
    assert sorted(gone) == sorted(paths[:3])                                # the three oldest
    assert [p for p, _ in store.files(browser)] == paths[3:][::-1]          # newest first


def test_browsers_not_seen_for_a_month_are_removed(state):
    old, recent = uuid.uuid4().hex, uuid.uuid4().hex
    for browser in (old, recent):
        store.write_new(store.new_trained_path(browser, "ae"), b"x")
    month_ago = time.time() - (store.STALE_DAYS + 1) * 86400
    os.utime(state / old, (month_ago, month_ago))
    (state / "not-a-browser").mkdir()
    os.utime(state / "not-a-browser", (month_ago, month_ago))
    assert store.prune_stale(force=True) == [state / old]
    assert not (state / old).exists() and (state / recent).exists() and (state / "not-a-browser").exists()
    store.files(recent)                                                     # a visit counts as seen
    assert time.time() - (state / recent).stat().st_mtime < 60


def test_a_kept_upload_keeps_its_name_made_safe_and_never_overwrites(state):
    browser = uuid.uuid4().hex
    first = store.write_new(store.kept_upload_path(browser, "my model (v2).pt"), b"one")
    second = store.write_new(store.kept_upload_path(browser, "my model (v2).pt"), b"two")
    assert first.name == "my_model__v2_.pt" and second.name == "my_model__v2_-2.pt"
    assert first.read_bytes() == b"one" and second.read_bytes() == b"two"
    with pytest.raises(FileExistsError):
        store.write_new(first, b"three")
    assert first.read_bytes() == b"one" and not list(first.parent.glob("*.tmp"))


def test_an_upload_kept_by_a_browser_is_written_to_its_folder_and_becomes_active(state, monkeypatch):
    from apptest_support import server_like_pages
    from conftest import ROOT
    from streamlit.testing.v1 import AppTest

    payload = (ROOT / "checkpoints" / "topk.pt").read_bytes()
    browser = uuid.uuid4().hex
    with server_like_pages():
        script = AppTest.from_string(
            "import streamlit as st\nfrom explorer.app import models\n"
            "st.session_state['entry'] = models.add_upload('my topk.pt', st.session_state['_kept'], keep=True).entry\n",
            default_timeout=120)
        script.session_state["_kept"] = payload
        script.session_state["_browser_id"] = browser
        script.run()
        assert not script.exception, script.exception
        entry = script.session_state["entry"]
    assert entry.origin == "kept" and entry.label == "my_topk (topk) · mnist-5k · uploaded"
    assert (state / browser / "kept" / "my_topk.pt").read_bytes() == payload
    assert script.session_state["active_model"] == entry.key


def _upload_script(lines: str):
    from streamlit.testing.v1 import AppTest

    return AppTest.from_string("import streamlit as st\nfrom explorer.app import models\n"
                               "from explorer.checkpoint import CheckpointError\n" + lines, default_timeout=120)


def test_an_upload_that_cannot_be_kept_is_loaded_for_the_tab_with_the_reason(state, tmp_path):
    from apptest_support import server_like_pages
    from conftest import ROOT
    from faults import failing_folder

    payload = (ROOT / "checkpoints" / "topk.pt").read_bytes()
    browser = uuid.uuid4().hex
    with failing_folder(tmp_path, "full") as full, server_like_pages():
        store.STATE_DIR, before = full, store.STATE_DIR
        try:
            script = _upload_script("added = models.add_upload('topk.pt', st.session_state['_kept'], keep=True)\n"
                                    "st.session_state['origin'] = added.entry.source\n"
                                    "st.session_state['why'] = added.not_kept\n")
            script.session_state["_kept"] = payload
            script.session_state["_browser_id"] = browser
            script.run()
        finally:
            store.STATE_DIR = before
    assert not script.exception, script.exception
    assert script.session_state["origin"] == "upload"             # loaded for this tab: nothing lost
    assert "could not write" in script.session_state["why"] and "the disk is full" in script.session_state["why"]
    assert str(full / browser / "kept") in script.session_state["why"]


def test_a_browser_keeps_a_bounded_number_of_uploads(state, monkeypatch):
    browser = uuid.uuid4().hex
    monkeypatch.setattr(store, "MAX_KEPT", 2)
    for name in ("a", "b"):
        store.check_room(browser, 10)
        store.write_new(store.kept_upload_path(browser, name), b"x" * 10)
    with pytest.raises(store.NoRoomError, match="this browser keeps 2 uploads already"):
        store.check_room(browser, 10)
    monkeypatch.setattr(store, "MAX_KEPT", 20)
    monkeypatch.setattr(store, "MAX_BROWSER_BYTES", 25)
    with pytest.raises(store.NoRoomError, match="take 0 MB of the 0 MB one browser may keep"):
        store.check_room(browser, 10)


def test_a_tab_holds_a_bounded_number_of_uploads_in_memory(state, monkeypatch):
    from apptest_support import server_like_pages
    from conftest import ROOT

    from explorer.app import models

    monkeypatch.setattr(models, "MAX_TAB_UPLOADS", 1)
    first = (ROOT / "checkpoints" / "topk.pt").read_bytes()
    second = (ROOT / "checkpoints" / "ae.pt").read_bytes()
    with server_like_pages():
        script = _upload_script("models.MAX_TAB_UPLOADS = 1\n"
                                "models.add_upload('topk.pt', st.session_state['_one'])\n"
                                "models.add_upload('topk.pt', st.session_state['_one'])   # the same again: fine\n"
                                "try:\n    models.add_upload('ae.pt', st.session_state['_two'])\n"
                                "except CheckpointError as exc:\n    st.session_state['why'] = str(exc)\n")
        script.session_state["_one"], script.session_state["_two"] = first, second
        script.session_state["_browser_id"] = uuid.uuid4().hex
        script.run()
    assert not script.exception, script.exception
    assert script.session_state["why"].startswith("ae.pt: this tab holds 1 uploaded models already")
