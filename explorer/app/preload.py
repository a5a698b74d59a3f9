"""Finish importing, once and in one thread, every module plotly peeks at: import this first in every script.

Why (the cold-start race of plotly/plotly.py#2433, reproduced here in tests/test_import_race.py):
plotly asks `sys.modules.get("pandas")` (its `get_module(..., should_load=False)`) to decide whether
a value is a pandas Series. Python puts a module into `sys.modules` *before* it runs the module's
body; an `import` in another thread waits on that module's lock until the body has finished, but a
dictionary lookup does not. So while one session's thread is still importing pandas (plotly.express
imports it lazily, Streamlit too), another session's plotly finds the half-built module and fails
with "partially initialized module 'pandas' has no attribute 'Series'".

Importing pandas at the top of the entry script is not enough: on a fresh server Streamlit runs a
page file directly, without the entry script (its legacy `pages/` mode, see
`explorer.app.legacy_pages`), so a student who opens a page's address first skips it.

The fix: the entry script and every page import this module before anything else. The first thread
to get here imports everything below; Python's module lock makes every other thread wait at its
`import explorer.app.preload` until that has finished, so no thread can run plotly code while one of
these is half-imported. Nothing else in the app imports them for the first time later.
"""
import numpy  # noqa: F401
import pandas  # noqa: F401
import PIL.Image  # noqa: F401  — Streamlit's st.image imports it lazily; plotly.io peeks at it
import plotly.express  # noqa: F401
import plotly.graph_objects  # noqa: F401
import plotly.io  # noqa: F401
import pyarrow  # noqa: F401  — Streamlit's dataframes import it lazily; narwhals peeks at it

# plotly loads its default template on first use, lazily as well: two sessions' first charts at the same moment
# could each load one, and a figure built against one copy then fails against the other ("ValueError: Invalid
# value", seen once in tests/test_import_race.py on a loaded machine). Loaded here, once, in one thread.
plotly.io.templates[plotly.io.templates.default]

# The modules plotly looks up in sys.modules without importing them (tests keep this in step with
# plotly's own source, so a plotly upgrade that peeks at something new fails a test, not a class).
PEEKED_BY_PLOTLY = ("numpy", "pandas", "PIL.Image")

# Every script's texts follow the reader's language from the first one: explorer.i18n asks this session.
import explorer.app.language  # noqa: E402,F401
