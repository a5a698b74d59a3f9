"""The app's pages, by absolute path: the entry script's router and the pages' own links use these, so
they resolve whether Streamlit's main script is streamlit_app.py or the launcher's (app/entry.py)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PAGES_DIR = Path(__file__).resolve().parents[2] / "pages"


@dataclass(frozen=True)
class PageInfo:
    name: str           # the file stem, and the URL path (Home is the default: "/")
    title: str
    icon: str

    @property
    def path(self) -> str:
        return str(PAGES_DIR / f"{self.name}.py")


PAGES = (
    PageInfo("home", "Home", ":material/home:"),
    PageInfo("train", "Train", ":material/model_training:"),
    PageInfo("reconstructions", "Reconstructions", ":material/compare:"),
    PageInfo("activations", "Activations & sparsity", ":material/bar_chart:"),
    PageInfo("latent", "Latent space", ":material/scatter_plot:"),
    PageInfo("compare", "Compare", ":material/view_column:"),
)


def page_file(name: str) -> str:
    """The absolute path of pages/<name>.py, for st.page_link and st.switch_page."""
    return next(p.path for p in PAGES if p.name == name)
