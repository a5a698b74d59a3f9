"""Lessons: guided paths through the app, each step a view of it (a page with its model and settings, as a
link names them), a short text with the idea's formula, what to look at and a question for the class — the
shipped ones follow the seed notes' sequence; a teacher's own is a JSON file made from links."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from urllib.parse import parse_qsl, urlsplit

from .i18n import N_, tr

FORMAT = "ae-explorer-lesson/1"
PAGES = ("home", "train", "reconstructions", "activations", "latent", "compare", "claims")
MAX_STEPS, MAX_TEXT, MAX_BYTES = 30, 2000, 200_000     # a lesson file a teacher hands out is small
# A step made from a link without a title is named after its page (in the teacher's language: the file keeps it).
STEP_TITLES = {"home": N_("Home"), "train": N_("Train"), "reconstructions": N_("Reconstructions"),
               "activations": N_("Activations"), "latent": N_("Latent"), "compare": N_("Compare"),
               "claims": N_("Claims")}


class LessonError(ValueError):
    """A lesson file or link that cannot be used: the message names the problem and what to do (made with
    tr() where it is raised: the page's run, so in the reader's language)."""


@dataclass(frozen=True)
class Step:
    title: str
    page: str                                   # a page's file stem (PAGES); "home" for the first page
    params: dict[str, str] = field(default_factory=dict)   # its link's values: model, view, unit, …
    text: str = ""                              # the idea, in a few sentences
    formula: str = ""                           # LaTeX, shown with st.latex
    look: str = ""                              # what to look at on that view
    question: str = ""                          # for the class


@dataclass(frozen=True)
class Lesson:
    name: str                                   # in links: lessons?lesson=<name>
    title: str
    about: str
    steps: tuple[Step, ...]

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "name": self.name, "title": self.title, "about": self.about,
                           "steps": [asdict(s) for s in self.steps]}, ensure_ascii=False, indent=1)


def _text(raw: object, what: str, required: bool = False) -> str:
    if raw is None and not required:
        return ""
    if not isinstance(raw, str) or (required and not raw.strip()):
        raise LessonError(tr("{what} must be a non-empty text", what=what) if required
                          else tr("{what} must be a text", what=what))
    if len(raw) > MAX_TEXT:
        raise LessonError(tr("{what} is {length:,} characters long; at most {most:,}", what=what,
                             length=len(raw), most=MAX_TEXT))
    return raw


def step_from_dict(raw: object, where: str) -> Step:
    if not isinstance(raw, dict):
        raise LessonError(tr("{where} must be an object with a title and a page", where=where))
    page = raw.get("page")
    if page not in PAGES:
        raise LessonError(tr("{where}: page {page} is not one of the app's pages ({pages})", where=where,
                             page=repr(page), pages=", ".join(PAGES)))
    params = raw.get("params") or {}
    if not isinstance(params, dict) or not all(isinstance(k, str) and isinstance(v, str | int | float)
                                               and not isinstance(v, bool) for k, v in params.items()):
        raise LessonError(tr("{where}: params must map names to texts or numbers, as a link does", where=where))
    return Step(title=_text(raw.get("title"), tr("{where}'s title", where=where), required=True), page=str(page),
                params={k: str(v) for k, v in params.items()},
                **{name: _text(raw.get(name), tr("{where}'s {field}", where=where, field=name))
                   for name in ("text", "formula", "look", "question")})


def lesson_from_json(data: bytes | str, name: str = "lesson") -> Lesson:
    """A lesson file read back; LessonError naming what is wrong (never a traceback) for anything else."""
    if len(data) > MAX_BYTES:
        raise LessonError(tr("{name}: {size:,} bytes is too large for a lesson file (at most {most:,})", name=name,
                             size=len(data), most=MAX_BYTES))
    try:
        raw = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise LessonError(tr("{name} is not a lesson file (not JSON: {problem})", name=name, problem=exc)) from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise LessonError(tr("{name} is not a lesson file: it needs \"format\": \"{format}\" (make one on the "
                             "Lessons page)", name=name, format=FORMAT))
    steps = raw.get("steps")
    if not isinstance(steps, list) or not steps:
        raise LessonError(tr("{name} has no steps: a lesson needs at least one", name=name))
    if len(steps) > MAX_STEPS:
        raise LessonError(tr("{name} has {count} steps; at most {most}", name=name, count=len(steps),
                             most=MAX_STEPS))
    return Lesson(name=_text(raw.get("name"), tr("its name")) or "mine",
                  title=_text(raw.get("title"), tr("its title"), required=True),
                  about=_text(raw.get("about"), tr("its about")),
                  steps=tuple(step_from_dict(s, tr("step {number}", number=i + 1)) for i, s in enumerate(steps)))


def step_from_link(link: str, title: str = "", look: str = "", question: str = "") -> Step:
    """A step from a view's link (the "Copy link" of any page): its page and its values."""
    parts = urlsplit(link.strip())
    page = parts.path.strip("/").rsplit("/", 1)[-1] or "home"
    if not parts.scheme and not parts.path and not parts.query:
        raise LessonError(tr("an empty link: paste a page's Copy link"))
    if page not in PAGES:
        raise LessonError(tr("{link} is not a link to one of the app's pages: copy it with the page's Copy link",
                             link=repr(link.strip()[:80])))
    params = dict(parse_qsl(parts.query))
    return Step(title=title or tr(STEP_TITLES[page]), page=page, params=params, look=look, question=question)


def lesson_from_links(title: str, rows: list[dict[str, str]]) -> Lesson:
    """A teacher's lesson: a step for each row with a link (a view's Copy link) and, optionally, its title,
    what to look at and a question; LessonError naming the row for a link that is not the app's."""
    steps = []
    for i, row in enumerate(r for r in rows if (r.get("link") or "").strip()):
        try:
            steps.append(step_from_link(row["link"], row.get("title") or "", row.get("look") or "",
                                        row.get("question") or ""))
        except LessonError as exc:
            raise LessonError(tr("row {number}: {problem}", number=i + 1, problem=exc)) from None
    if not steps:
        raise LessonError(tr("no link yet: paste a view's Copy link in the first row"))
    if len(steps) > MAX_STEPS:
        raise LessonError(tr("{count} steps; a lesson holds at most {most}", count=len(steps), most=MAX_STEPS))
    return lesson_from_json(Lesson("mine", _text(title, tr("the title"), required=True), "", tuple(steps)).to_json())


def shipped_lessons() -> dict[str, Lesson]:
    """The lessons that come with the app, in the seed notes' order."""
    from .lesson_catalog import LESSONS

    return {lesson.name: lesson for lesson in LESSONS}
