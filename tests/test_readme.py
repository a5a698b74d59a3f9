"""The README's Python example runs as written (with fewer epochs)."""
from __future__ import annotations

import re

from conftest import ROOT


def test_the_readme_python_example_runs(tmp_path, monkeypatch):
    block = re.search(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert block is not None
    code = block.group(1).replace("epochs=150", "epochs=2")
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    assert scope["model"].meta.dataset == "mnist-5k" and 0 < scope["metrics"].fvu
    assert (tmp_path / "kl.pt").exists()
