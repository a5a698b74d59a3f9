"""The main script the launcher (app/launch.py) gives Streamlit: it runs streamlit_app.py from this
folder, which has no pages/ subfolder, so Streamlit never starts in its legacy pages mode — no
file-name navigation, no blank first page (streamlit_app.py run directly handles that mode instead;
see app/legacy_pages.py)."""
import runpy
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
runpy.run_path(str(ROOT / "streamlit_app.py"), run_name="__main__")
