"""The app's pages, by absolute path: the entry script's router and the pages' own links use these, so
they resolve whether Streamlit's main script is streamlit_app.py or the launcher's (app/entry.py)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..i18n import N_

PAGES_DIR = Path(__file__).resolve().parents[2] / "pages"


@dataclass(frozen=True)
class PageInfo:
    name: str           # the file stem, and the URL path (the default page's is "/")
    title: str         # English, marked for the catalogue: shown as tr(title)
    icon: str
    default: bool = False   # the page the app opens on

    @property
    def path(self) -> str:
        return str(PAGES_DIR / f"{self.name}.py")

    @property
    def url_path(self) -> str:
        """Its address after the app's root: '' for the default page."""
        return "" if self.default else self.name


PAGES = (
    PageInfo("home", N_("Home"), ":material/home:", default=True),
    PageInfo("train", N_("Train"), ":material/model_training:"),
    PageInfo("reconstructions", N_("Reconstructions"), ":material/compare:"),
    PageInfo("activations", N_("Activations & sparsity"), ":material/bar_chart:"),
    PageInfo("latent", N_("Latent space"), ":material/scatter_plot:"),
    PageInfo("compare", N_("Compare"), ":material/view_column:"),
    PageInfo("claims", N_("Claims"), ":material/fact_check:"),
    PageInfo("lessons", N_("Lessons"), ":material/school:"),
)


def page_named(name: str) -> PageInfo:
    """The page whose file is pages/<name>.py."""
    return next(p for p in PAGES if p.name == name)


def page_file(name: str) -> str:
    """The absolute path of pages/<name>.py, for st.page_link and st.switch_page."""
    return page_named(name).path
