"""The README's two commands share one environment: scripts/app.sh and scripts/test.sh resolve to the
same folder (keyed by requirements.txt alone), the test command only adds requirements-dev.txt to it,
once, and neither installs PyTorch a second time. Checked on a stand-in environment whose python logs
what pip would be asked to do, so nothing is downloaded."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

PROBE = 'source scripts/env.sh {extra}; echo "ENV=$VIRTUAL_ENV"'


def stand_in(root: Path) -> Path:
    """A finished environment as env.sh leaves it, with a python that logs its arguments."""
    key = hashlib.sha256((ROOT / "requirements.txt").read_bytes()).hexdigest()[:16]
    venv = root / f"env-{sys.version_info[0]}{sys.version_info[1]}-{key}"
    (venv / "bin").mkdir(parents=True)
    (venv / ".complete").touch()
    (venv / "bin" / "activate").write_text(f'export VIRTUAL_ENV="{venv}" PATH="{venv}/bin:$PATH"\n')
    python = venv / "bin" / "python"
    python.write_text(f'#!/bin/sh\necho "$@" >> "{root}/pip.log"\n')
    python.chmod(0o755)
    return venv


def run(extra: str, root: Path) -> str:
    env = {**os.environ, "AE_EXPLORER_VENV_ROOT": str(root), "PYTHON": sys.executable}
    done = subprocess.run(["bash", "-c", PROBE.format(extra=extra)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1].removeprefix("ENV=")


def test_the_app_and_the_tests_use_one_environment_and_install_torch_once(tmp_path):
    venv = stand_in(tmp_path)
    log = tmp_path / "pip.log"
    assert run('""', tmp_path) == str(venv) and not log.exists()         # the app: nothing to install
    assert run("requirements-dev.txt", tmp_path) == str(venv)             # the tests: the same folder …
    calls = log.read_text().splitlines()
    assert len(calls) == 1 and "-r" in calls[0] and calls[0].endswith("requirements-dev.txt")   # … plus the tools
    assert "torch" not in (ROOT / "requirements-dev.txt").read_text()    # which bring no second PyTorch
    assert run("requirements-dev.txt", tmp_path) == str(venv) and len(log.read_text().splitlines()) == 1  # once
    assert run('""', tmp_path) == str(venv) and [p.name for p in tmp_path.iterdir() if p.is_dir()] == [venv.name]


def test_the_app_command_passes_its_arguments_to_the_launcher_and_installs_nothing(tmp_path):
    stand_in(tmp_path)
    env = {**os.environ, "AE_EXPLORER_VENV_ROOT": str(tmp_path), "PYTHON": sys.executable}
    done = subprocess.run(["bash", "scripts/app.sh", "--server.port", "8999"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    # the stand-in python was started once, as the launcher: no pip, and the flag went to Streamlit
    assert (tmp_path / "pip.log").read_text().splitlines() == ["-m explorer.app.launch --server.port 8999"]
