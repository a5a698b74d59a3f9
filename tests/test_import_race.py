"""The cold-start import race (plotly/plotly.py#2433): reproduced deterministically, and shown fixed."""
import ast
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Two "sessions" run the same script in two threads, as Streamlit's script runners do. pandas is made
# slow to import (a meta-path finder sleeps before running its body, while the half-built module is
# already in sys.modules), so the second session reliably runs while the first is mid-import.
HARNESS = r"""
import importlib.abc, importlib.machinery, sys, threading, time
sys.path.insert(0, sys.argv[2])

class SlowPandas(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "pandas":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        run_body = spec.loader.exec_module
        def slow_body(module):
            time.sleep(1.5)
            run_body(module)
        spec.loader.exec_module = slow_body
        return spec

sys.meta_path.insert(0, SlowPandas())
import numpy, plotly.express  # what a cold server already has: neither imports pandas
assert "pandas" not in sys.modules
errors = []
def session():
    try:
        exec(compile(sys.argv[1], "<session>", "exec"), {"__name__": "__session__"})
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
first = threading.Thread(target=session)
first.start()
time.sleep(0.5)   # the first session is now inside `import pandas`
second = threading.Thread(target=session)
second.start()
first.join(); second.join()
print(repr(errors))
"""

CHART = ("import numpy as np, plotly.express as px, plotly.io as pio\n"
         "pio.to_json(px.scatter(x=np.arange(5), y=np.arange(5)))\n")


def run_sessions(script: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", HARNESS, script, str(ROOT)], capture_output=True, text=True,
                         timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    return ast.literal_eval(out.stdout.strip().splitlines()[-1])


def test_race_is_real_without_the_preload():
    errors = run_sessions(CHART)
    assert len(errors) == 1 and "partially initialized module 'pandas'" in errors[0], errors


def test_preload_first_makes_every_session_wait_for_whole_modules():
    errors = run_sessions("import explorer.app.preload\n" + CHART)
    assert errors == []


def test_preload_covers_every_installed_module_plotly_peeks_at():
    import _plotly_utils
    import plotly

    from explorer.app import preload

    peeked = set()
    for package in (plotly, _plotly_utils):
        for source in Path(package.__file__).parent.rglob("*.py"):
            peeked |= set(re.findall(r'get_module\(\s*"([\w.]+)",\s*should_load=False', source.read_text()))
    installed = {name for name in peeked if importlib.util.find_spec(name.split(".")[0]) is not None}
    assert {"numpy", "pandas"} <= installed   # the scan found plotly's peeks at all
    assert installed <= set(preload.PEEKED_BY_PLOTLY)
    assert all(name in sys.modules for name in preload.PEEKED_BY_PLOTLY)


@pytest.mark.parametrize("script", ["streamlit_app.py", *sorted(p.name for p in (ROOT / "pages").glob("*.py"))])
def test_every_script_imports_the_preload_before_any_library(script):
    """A page can run without the entry script (legacy pages mode), so each one must import it first
    (only the standard library's `time`, for the run clock, may come before it)."""
    path = ROOT / script if script == "streamlit_app.py" else ROOT / "pages" / script
    imports = [node for node in ast.parse(path.read_text()).body if isinstance(node, (ast.Import, ast.ImportFrom))]
    first = next(i for i, node in enumerate(imports)
                 if not (isinstance(node, ast.Import) and [a.name for a in node.names] == ["time"]))
    assert isinstance(imports[first], ast.Import) and imports[first].names[0].name == "explorer.app.preload", (
        f"{script}: the first import must be `import explorer.app.preload`")
