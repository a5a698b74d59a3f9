"""Offline start: a copy of the repository (what a fresh clone holds) serves every page with the
network switched off — a network namespace with only loopback — and explains the download datasets."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from browser_support import ROOT, browser_available


def network_off_available() -> str | None:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "needs unshare and ip (util-linux, iproute2)"
    probe = subprocess.run(["unshare", "-rn", "sh", "-c", "ip link set lo up"], capture_output=True)
    return None if probe.returncode == 0 else "this machine does not allow network namespaces"


NO_BROWSER, NO_NETWORK_OFF = browser_available(), network_off_available()   # probe once
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(NO_BROWSER is not None, reason=str(NO_BROWSER)),
              pytest.mark.skipif(NO_NETWORK_OFF is not None, reason=str(NO_NETWORK_OFF))]


def fresh_copy(target):
    """The files a clone would hold: tracked ones, plus new ones not ignored (not yet committed)."""
    listing = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout
    for name in filter(None, listing.split("\0")):
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    return target


def test_a_fresh_copy_serves_every_page_with_the_network_off(tmp_path):
    copy = fresh_copy(tmp_path / "clone")
    tour = ROOT / "tests" / "offline_tour.py"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home"),        # no cached dataset, no config
           "AE_EXPLORER_CACHE": str(tmp_path / "cache"), "PYTHONUNBUFFERED": "1"}
    out = subprocess.run(["unshare", "-rn", "sh", "-c",
                          f'ip link set lo up && exec "{sys.executable}" "{tour}" "{copy}"'],
                         env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert set(found["pages"]) == {"home", "train", "reconstructions", "activations", "latent", "compare", "claims"}
    for name, page in found["pages"].items():
        assert page["exceptions"] == [], (name, page["exceptions"])
        assert page["model"].startswith("ae · mnist-5k · shipped"), (name, page["model"])
        assert name == "train" or page["charts_and_images"] > 0, name
    download = found["download_dataset"]
    assert download["exceptions"] == []
    assert "Dataset 'mnist' is not on disk and could not be downloaded" in download["main"]
    assert "work offline: mnist-5k, digits" in download["main"]
