"""`pip install -e .` gives the `ae-explorer` command with every subcommand and `app`, which serves the
app as scripts/app.sh does. Installed into a scratch environment that borrows this one's packages
(no download), with the project's own pyproject.toml."""
from __future__ import annotations

import json
import os
import site
import subprocess
import time
import urllib.request
import venv

import pytest
from browser_support import free_port
from conftest import ROOT


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh environment that sees this environment's packages, with the project installed editable."""
    env_dir = tmp_path_factory.mktemp("pkg") / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = str(env_dir / "bin" / "python")
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    with open(os.path.join(purelib, "borrowed.pth"), "w") as pth:      # torch, streamlit, … without a download
        pth.write("\n".join(site.getsitepackages()) + "\n")
    install = subprocess.run([python, "-m", "pip", "install", "--no-deps",
                              "--no-build-isolation", "--no-index", "--quiet", "-e", str(ROOT)],
                             capture_output=True, text=True, timeout=300, cwd=env_dir.parent)
    assert install.returncode == 0, install.stdout + install.stderr
    return env_dir


def test_every_subcommand_is_there(installed, tmp_path):
    exe = str(installed / "bin" / "ae-explorer")
    listing = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=120)
    assert listing.returncode == 0
    for command in ("app", "variants", "datasets", "train", "evaluate", "sweep", "project"):
        assert command in listing.stdout
    variants = subprocess.run([exe, "variants"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert variants.returncode == 0 and "jumprelu" in variants.stdout
    out = tmp_path / "ae.pt"
    trained = subprocess.run([exe, "train", "--variant", "ae", "--dataset", "digits", "--epochs", "1",
                              "--out", str(out)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    evaluated = subprocess.run([exe, "evaluate", "--checkpoint", str(out), "--json"], capture_output=True, text=True,
                               timeout=300, cwd=tmp_path)
    assert json.loads(evaluated.stdout)["variant"] == "ae"
    bad = subprocess.run([exe, "variants", "--nonsense"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_app_serves_the_app_from_anywhere(installed, tmp_path):
    port = free_port()
    env = {**os.environ, "AE_EXPLORER_OFFLINE": "1"}
    server = subprocess.Popen([str(installed / "bin" / "ae-explorer"), "app", "--server.port", str(port),
                               "--server.headless", "true", "--server.address", "127.0.0.1"],
                              cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 180
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
                    if response.read() == b"ok":
                        break
            except OSError:
                time.sleep(0.3)
        else:
            server.kill()
            pytest.fail(f"the app did not come up: {server.stdout.read() if server.stdout else ''}")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=60) as page:
            assert b"<title>" in page.read()
    finally:
        server.terminate()
        server.wait(timeout=120)
