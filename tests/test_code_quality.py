"""Lint and types, run with every other test so that CI runs them: ruff over the whole tree and mypy
over explorer/, both configured in pyproject.toml."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

CACHE = Path(os.environ.get("AE_EXPLORER_CACHE", Path.home() / ".cache" / "ae-explorer"))


def run_tool(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MYPY_CACHE_DIR": str(CACHE / "mypy"), "RUFF_CACHE_DIR": str(CACHE / "ruff")}
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, env=env,
                          timeout=600)


def test_ruff_finds_nothing():
    result = run_tool("ruff", "check", ".", "--output-format", "concise")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing_in_the_library():
    result = run_tool("mypy")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues found" in result.stdout
