"""Lessons: a guided path through the app, one step at a time — its text, formula, what to look at, a question
and the view it opens; a teacher's own lesson made from views' links, downloaded and opened again."""
import explorer.app.preload  # noqa: F401  — first: see its docstring

from dataclasses import replace

import streamlit as st

from explorer.app import keys, links
from explorer.app.legacy_pages import leave_legacy_pages_mode
from explorer.app.navigation import page_file, page_named
from explorer.app.page import header
from explorer.lessons import LessonError, lesson_from_json, lesson_from_links, shipped_lessons

leave_legacy_pages_mode()
link_slot = header("Lessons")
lessons = {**shipped_lessons(), **st.session_state.get(keys.OWN_LESSONS, {})}
links.preset(keys.LESSON, "lesson", links.one_of(list(lessons)), "lesson")
st.session_state.setdefault(keys.LESSON, next(iter(lessons)))
name = st.selectbox("Lesson", list(lessons), key=keys.LESSON, format_func=lambda n: lessons[n].title,
                    help="The shipped lessons follow the seed notes; a lesson file you open below joins them.")
lesson = lessons[name]
st.caption(lesson.about)

step_key = f"{keys.LESSON_STEP}_{name}"
links.preset(step_key, "step", links.int_in(1, len(lesson.steps)), "step")
st.session_state.setdefault(step_key, 1)
number = st.segmented_control("Step", list(range(1, len(lesson.steps) + 1)), key=step_key,
                              format_func=lambda i: f"{i} · {lesson.steps[i - 1].title}")
number = number or 1
step = lesson.steps[number - 1]
links.publish("lessons", {"lesson": name, "step": number}, link_slot)

with st.container(border=True):
    st.subheader(f"{number}. {step.title}")
    if step.text:
        st.markdown(step.text)
    if step.formula:
        st.latex(step.formula)
    if step.look:
        st.markdown(f"**Look at:** {step.look}")
    if step.question:
        st.markdown(f"**For the class:** {step.question}")
    st.page_link(page_file(step.page), label=f"Open this view: {page_named(step.page).title}",
                 icon=":material/open_in_new:", query_params=step.params)

with st.expander("Make a lesson from views", icon=":material/edit_note:"):
    st.markdown("Open each view you want, press its **Copy link**, and paste the links here, one a row, with "
                "what to look at and a question. Download the lesson and hand the file out; anyone opens it "
                "below.")
    title = st.text_input("Title", "My lesson", key="lesson_make_title")
    rows = st.data_editor([{"link": "", "title": "", "look": "", "question": ""}], num_rows="dynamic",
                          key="lesson_make_rows", width="stretch",
                          column_config={"look": st.column_config.TextColumn("look at")})
    try:
        made = lesson_from_links(title, rows)
    except LessonError as exc:
        st.caption(f"Not yet a lesson: {exc}.")
        made = None
    st.download_button("Download the lesson (JSON)", made.to_json() if made else "", file_name="lesson.json",
                       mime="application/json", disabled=made is None, icon=":material/download:",
                       help="Needs at least one link to a view of this app.")

upload = st.file_uploader("Open a lesson file", type=["json"], key="lesson_upload",
                          help="A file made with “Make a lesson from views”; it is kept for this tab.")
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
