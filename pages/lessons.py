"""Lessons: a guided path through the app, one step at a time — its text, formula, what to look at, a question
and the view it opens; a teacher's own lesson made from views' links, downloaded and opened again."""
import explorer.app.preload  # noqa: F401  — first: see its docstring

from dataclasses import replace

import streamlit as st

from explorer.app import keys, language, links
from explorer.app.legacy_pages import leave_legacy_pages_mode
from explorer.app.navigation import page_file, page_named
from explorer.app.page import header
from explorer.i18n import N_, tr
from explorer.lessons import Lesson, LessonError, lesson_from_json, lesson_from_links, shipped_lessons

leave_legacy_pages_mode()
link_slot = header(tr("Lessons"))
shipped = shipped_lessons()
lessons = {**shipped, **st.session_state.get(keys.OWN_LESSONS, {})}


def shown(lesson_name: str, text: str) -> str:
    """A shipped lesson's text in the reader's language; a teacher's own lesson as its file has it."""
    return tr(text) if lesson_name in shipped else text


links.preset(keys.LESSON, "lesson", links.one_of(list(lessons)), N_("lesson"))
st.session_state.setdefault(keys.LESSON, next(iter(lessons)))
name = st.selectbox(tr("Lesson"), list(lessons), key=keys.LESSON, format_func=lambda n: shown(n, lessons[n].title),
                    help=tr("The shipped lessons follow the seed notes; a lesson file you open below joins them."))
lesson = lessons[name]
st.caption(shown(name, lesson.about))

step_key = f"{keys.LESSON_STEP}_{name}"
links.preset(step_key, "step", links.int_in(1, len(lesson.steps)), N_("step"))
st.session_state.setdefault(step_key, 1)
number = st.segmented_control(tr("Step"), list(range(1, len(lesson.steps) + 1)), key=step_key,
                              format_func=lambda i: f"{i} · {shown(name, lesson.steps[i - 1].title)}")
number = number or 1
step = lesson.steps[number - 1]
links.publish("lessons", {"lesson": name, "step": number}, link_slot)

with st.container(border=True):
    st.subheader(f"{number}. {shown(name, step.title)}")
    if step.text:
        st.markdown(shown(name, step.text))
    if step.formula:
        st.latex(step.formula)
    if step.look:
        st.markdown(tr("**Look at:** {look}", look=shown(name, step.look)))
    if step.question:
        st.markdown(tr("**For the class:** {question}", question=shown(name, step.question)))
    # The view opens in the reader's language, whatever language the link was copied in.
    params = {k: v for k, v in step.params.items() if k != language.LINK_NAME} | language.link_values()
    st.page_link(page_file(step.page), label=tr("Open this view: {page}", page=tr(page_named(step.page).title)),
                 icon=":material/open_in_new:", query_params=params)

with st.expander(tr("Make a lesson from views"), icon=":material/edit_note:"):
    st.markdown(tr("Open each view you want, press its **Copy link**, and paste the links here, one a row, with "
                   "what to look at and a question. Download the lesson and hand the file out; anyone opens it "
                   "below."))
    title = st.text_input(tr("Title"), tr("My lesson"), key="lesson_make_title")
    rows = st.data_editor([{"link": "", "title": "", "look": "", "question": ""}], num_rows="dynamic",
                          key="lesson_make_rows", width="stretch",
                          column_config={"link": st.column_config.TextColumn(tr("link")),
                                         "title": st.column_config.TextColumn(tr("title")),
                                         "look": st.column_config.TextColumn(tr("look at")),
                                         "question": st.column_config.TextColumn(tr("question"))})
    made: Lesson | None
    try:
        made = lesson_from_links(title, rows)
    except LessonError as exc:
        st.caption(tr("Not yet a lesson: {problem}.", problem=exc))
        made = None
    st.download_button(tr("Download the lesson (JSON)"), made.to_json() if made else "", file_name="lesson.json",
                       mime="application/json", disabled=made is None, icon=":material/download:",
                       help=tr("Needs at least one link to a view of this app."))

upload = st.file_uploader(tr("Open a lesson file"), type=["json"], key="lesson_upload",
                          help=tr("A file made with “Make a lesson from views”; it is kept for this tab."))
if upload is not None and st.session_state.get(keys.LESSON_UPLOAD_SEEN) != upload.file_id:
    st.session_state[keys.LESSON_UPLOAD_SEEN] = upload.file_id
    try:
        opened = lesson_from_json(upload.getvalue(), upload.name)
        own = st.session_state.setdefault(keys.OWN_LESSONS, {})
        key = f"mine-{len(own) + 1}"
        own[key] = replace(opened, name=key)
        st.session_state[keys.LESSON] = key
        st.rerun()
    except LessonError as exc:
        st.error(str(exc), icon=":material/warning:")
