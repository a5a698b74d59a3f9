"""The README's Python example runs as written (with fewer epochs), the claims included."""
from __future__ import annotations

import re

from conftest import ROOT


def test_the_readme_python_example_runs(tmp_path, monkeypatch):
    block = re.search(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert block is not None
    code = block.group(1).replace("epochs=150", "epochs=2")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "checkpoints").symlink_to(ROOT / "checkpoints")      # run as from the repository's root
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    assert scope["model"].meta.dataset == "mnist-5k" and 0 < scope["metrics"].fvu
    assert (tmp_path / "kl.pt").exists()
    assert len(scope["measures"]) == 3 and scope["claim"].verdict in ("holds", "contradicted", "inconclusive")
