"""Lessons: guided paths through the app, each step a view of it (a page with its model and settings, as a
link names them), a short text with the idea's formula, what to look at and a question for the class — the
shipped ones follow the seed notes' sequence; a teacher's own is a JSON file made from links."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from urllib.parse import parse_qsl, urlsplit

FORMAT = "ae-explorer-lesson/1"
PAGES = ("home", "train", "reconstructions", "activations", "latent", "compare", "claims")
MAX_STEPS, MAX_TEXT, MAX_BYTES = 30, 2000, 200_000     # a lesson file a teacher hands out is small


class LessonError(ValueError):
    """A lesson file or link that cannot be used: the message names the problem and what to do."""


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
        raise LessonError(f"{what} must be {'a non-empty' if required else 'a'} text")
    if len(raw) > MAX_TEXT:
        raise LessonError(f"{what} is {len(raw):,} characters long; at most {MAX_TEXT:,}")
    return raw


def step_from_dict(raw: object, where: str) -> Step:
    if not isinstance(raw, dict):
        raise LessonError(f"{where} must be an object with a title and a page")
    page = raw.get("page")
    if page not in PAGES:
        raise LessonError(f"{where}: page {page!r} is not one of the app's pages ({', '.join(PAGES)})")
    params = raw.get("params") or {}
    if not isinstance(params, dict) or not all(isinstance(k, str) and isinstance(v, str | int | float)
                                               and not isinstance(v, bool) for k, v in params.items()):
        raise LessonError(f"{where}: params must map names to texts or numbers, as a link does")
    return Step(title=_text(raw.get("title"), f"{where}'s title", required=True), page=str(page),
                params={k: str(v) for k, v in params.items()},
                **{name: _text(raw.get(name), f"{where}'s {name}") for name in ("text", "formula", "look", "question")})


def lesson_from_json(data: bytes | str, name: str = "lesson") -> Lesson:
    """A lesson file read back; LessonError naming what is wrong (never a traceback) for anything else."""
    if len(data) > MAX_BYTES:
        raise LessonError(f"{name}: {len(data):,} bytes is too large for a lesson file (at most {MAX_BYTES:,})")
    try:
        raw = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise LessonError(f"{name} is not a lesson file (not JSON: {exc})") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise LessonError(f"{name} is not a lesson file: it needs \"format\": \"{FORMAT}\" (make one on the "
                          "Lessons page)")
    steps = raw.get("steps")
    if not isinstance(steps, list) or not steps:
        raise LessonError(f"{name} has no steps: a lesson needs at least one")
    if len(steps) > MAX_STEPS:
        raise LessonError(f"{name} has {len(steps)} steps; at most {MAX_STEPS}")
    return Lesson(name=_text(raw.get("name"), "its name") or "mine", title=_text(raw.get("title"), "its title",
                                                                                  required=True),
                  about=_text(raw.get("about"), "its about"),
                  steps=tuple(step_from_dict(s, f"step {i + 1}") for i, s in enumerate(steps)))


def step_from_link(link: str, title: str = "", look: str = "", question: str = "") -> Step:
    """A step from a view's link (the "Copy link" of any page): its page and its values."""
    parts = urlsplit(link.strip())
    page = parts.path.strip("/").rsplit("/", 1)[-1] or "home"
    if not parts.scheme and not parts.path and not parts.query:
        raise LessonError("an empty link: paste a page's Copy link")
    if page not in PAGES:
        raise LessonError(f"{link.strip()[:80]!r} is not a link to one of the app's pages: copy it with the "
                          "page's Copy link")
    params = dict(parse_qsl(parts.query))
    return Step(title=title or page.capitalize(), page=page, params=params, look=look, question=question)


def lesson_from_links(title: str, rows: list[dict[str, str]]) -> Lesson:
    """A teacher's lesson: a step for each row with a link (a view's Copy link) and, optionally, its title,
    what to look at and a question; LessonError naming the row for a link that is not the app's."""
    steps = []
    for i, row in enumerate(r for r in rows if (r.get("link") or "").strip()):
        try:
            steps.append(step_from_link(row["link"], row.get("title") or "", row.get("look") or "",
                                        row.get("question") or ""))
        except LessonError as exc:
            raise LessonError(f"row {i + 1}: {exc}") from None
    if not steps:
        raise LessonError("no link yet: paste a view's Copy link in the first row")
    if len(steps) > MAX_STEPS:
        raise LessonError(f"{len(steps)} steps; a lesson holds at most {MAX_STEPS}")
    return lesson_from_json(Lesson("mine", _text(title, "the title", required=True), "", tuple(steps)).to_json())


def shipped_lessons() -> dict[str, Lesson]:
    """The lessons that come with the app, in the seed notes' order."""
    from .lesson_catalog import LESSONS

    return {lesson.name: lesson for lesson in LESSONS}
