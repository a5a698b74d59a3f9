"""Lessons: the shipped ones follow the seed notes and every step opens a view the app takes without a notice;
a lesson file made from views' links comes back the same, and a bad one gets a one-line message."""
from __future__ import annotations

import json

import pytest
from apptest_support import server_like_pages
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from explorer.app.navigation import PAGES
from explorer.lessons import PAGES as LESSON_PAGES
from explorer.lessons import LessonError, lesson_from_json, lesson_from_links, shipped_lessons, step_from_link

APP = str(ROOT / "streamlit_app.py")
STEPS = [(lesson.name, i, step) for lesson in shipped_lessons().values() for i, step in enumerate(lesson.steps)]


@pytest.fixture(autouse=True)
def _like_a_running_server():
    with server_like_pages():
        yield


def test_the_shipped_lessons_follow_the_seed_notes():
    names = list(shipped_lessons())
    assert names == ["autoencoder", "sparse", "denoising", "contractive-variational", "modern-saes"]
    assert set(LESSON_PAGES) == {p.name for p in PAGES} - {"lessons"}
    for lesson in shipped_lessons().values():
        assert 2 <= len(lesson.steps) and all(s.title and s.page in LESSON_PAGES for s in lesson.steps)
        assert any(s.formula for s in lesson.steps) and all(s.question for s in lesson.steps)
        assert lesson_from_json(lesson.to_json()) == lesson                     # a file gives it back


@pytest.mark.parametrize("lesson, index, step", STEPS, ids=[f"{n}-{i + 1}" for n, i, _ in STEPS])
def test_every_step_opens_its_view_with_every_value_taken(lesson, index, step):
    at = AppTest.from_file(APP, default_timeout=120)
    for name, value in step.params.items():
        at.query_params[name] = value
    at.switch_page(f"pages/{step.page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.toast, [t.value for t in at.toast]                 # a value the page could not use: a notice
    for name, value in step.params.items():
        shown = at.query_params.get(name)
        assert (shown[0] if isinstance(shown, list) else shown) == value, (name, shown)    # kept, so applied


def test_a_lesson_made_from_links_comes_back_from_its_file():
    made = lesson_from_links("Noise", [
        {"link": "http://localhost:8501/reconstructions?model=denoising&noise=gaussian", "title": "Noisy in",
         "look": "the middle row", "question": "why?"},
        {"link": "", "title": "an empty row is skipped"},
        {"link": "http://localhost:8501/?model=ae"}])
    assert [s.page for s in made.steps] == ["reconstructions", "home"]
    assert made.steps[0].params == {"model": "denoising", "noise": "gaussian"}
    assert made.steps[0].look == "the middle row"
    assert made.steps[1].title == "Home"
    assert lesson_from_json(made.to_json()) == made


@pytest.mark.parametrize("data, says", [
    (b"\x89PNG not json", "is not a lesson file (not JSON"),
    (json.dumps({"title": "x", "steps": []}), "needs \"format\""),
    (json.dumps({"format": "ae-explorer-lesson/1", "title": "x", "steps": []}), "has no steps"),
    (json.dumps({"format": "ae-explorer-lesson/1", "title": "x", "steps": [{"title": "a", "page": "nowhere"}]}),
     "page 'nowhere' is not one of the app's pages"),
    (json.dumps({"format": "ae-explorer-lesson/1", "title": "x",
                 "steps": [{"title": "a", "page": "home", "params": {"model": ["ae"]}}]}), "params must map"),
    (json.dumps({"format": "ae-explorer-lesson/1", "title": "", "steps": [{"title": "a", "page": "home"}]}),
     "its title must be a non-empty text"),
    ("x" * 300_000, "too large for a lesson file"),
])
def test_a_bad_lesson_file_gets_a_message_naming_the_problem(data, says):
    with pytest.raises(LessonError, match=None) as raised:
        lesson_from_json(data, "mine.json")
    assert says in str(raised.value) and "\n" not in str(raised.value)


def test_a_link_from_elsewhere_is_refused_naming_its_row():
    with pytest.raises(LessonError, match="row 1: 'https://example.com/somewhere' is not a link to one of"):
        lesson_from_links("x", [{"link": "https://example.com/somewhere"}])
    with pytest.raises(LessonError, match="no link yet"):
        lesson_from_links("x", [{"link": "  "}])
    assert step_from_link("http://h/activations?model=topk&view=unit&unit=3").params == {
        "model": "topk", "view": "unit", "unit": "3"}


def test_the_lessons_page_shows_a_step_and_the_view_it_opens():
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["lesson"] = "sparse"
    at.query_params["step"] = "3"
    at.switch_page("pages/lessons.py")
    at.run()
    assert not at.exception
    assert at.subheader[0].value == "3. KL: a target firing rate"
    assert any("KL" in latex.value for latex in at.latex)
    link = at.get("page_link")[0]
    assert "activations" in link.proto.page and "view=kl" in link.proto.page_script_hash + str(link.proto)
