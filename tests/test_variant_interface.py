"""A variant is one file: nothing outside explorer/variants/ asks a model's name or reaches into what
only some variants have; everything it needs is on the base class's interface."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import ROOT

from explorer import get_variant, variant_names
from explorer.variants.base import Autoencoder, AutoencoderConfig

OUTSIDE = sorted({*ROOT.glob("explorer/**/*.py"), *ROOT.glob("pages/*.py"), ROOT / "streamlit_app.py"}
                 - set(ROOT.glob("explorer/variants/*.py")))


def variant_specific_names() -> tuple[set[str], set[str]]:
    """(members only some variants have, hyperparameters only some variants have), from the registry,
    so that a new variant's own members are covered without editing this test."""
    base_members = set(dir(Autoencoder()))
    members: set[str] = set()
    fields: set[str] = set()
    for name in variant_names():
        cls = get_variant(name)
        members |= set(dir(cls())) - base_members
        fields |= set(cls.config_class.field_specs()) - set(AutoencoderConfig.field_specs())
    members.discard("threshold")      # also CodeKind.threshold and CodeStats.threshold: checked via .config only
    return members, fields


def violations(path: Path) -> list[str]:
    names = set(variant_names())
    members, fields = variant_specific_names()
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Compare):
            literals = [c.value for side in (node.left, *node.comparators) for c in ast.walk(side)
                        if isinstance(c, ast.Constant) and isinstance(c.value, str)]
            found += [f"{where} compares with the variant name {v!r}" for v in literals if v in names]
        elif isinstance(node, ast.Attribute):
            if node.attr in members:
                found.append(f"{where} uses .{node.attr}, which only some variants have")
            if node.attr in fields and isinstance(node.value, ast.Attribute) and node.value.attr == "config":
                found.append(f"{where} reads .config.{node.attr}, a hyperparameter only some variants have")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "hasattr"):
            if len(node.args) > 1 and isinstance(node.args[1], ast.Constant) and node.args[1].value in members | fields:
                found.append(f"{where} probes for {node.args[1].value!r} with {node.func.id}")
    return found


def test_the_check_catches_what_it_is_meant_to(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text('if model.name == "vae":\n    pass\nrho = model.config.rho\nhead = model.mu_head\n'
                   'x = hasattr(model, "mu_head")\nok = model.config.latent_dim\n')
    bad = bad.rename(ROOT / "tests" / "_bad_for_interface_check.py")
    try:
        found = violations(bad)
    finally:
        bad.unlink()
    assert len(found) == 4, found
    assert "'vae'" in found[0] and ".config.rho" in " ".join(found) and "mu_head" in " ".join(found)


@pytest.mark.parametrize("path", OUTSIDE, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_code_outside_the_variants_branches_on_a_variant(path):
    assert violations(path) == []


LIBRARY = sorted(set(ROOT.glob("explorer/**/*.py")) - set(ROOT.glob("explorer/app/*.py")))


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_library_outside_the_app_subpackage_never_names_streamlit(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            assert not any(a.name.split(".")[0] == "streamlit" for a in node.names), path
        elif isinstance(node, ast.ImportFrom):
            assert (node.module or "").split(".")[0] != "streamlit" and not (node.level and node.module and
                                                                             node.module.startswith("app")), path


def test_importing_the_whole_library_loads_no_streamlit():
    import subprocess
    import sys

    modules = [".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__") for p in LIBRARY
               if p.name != "__main__.py"]     # running the CLI is not importing it
    code = ("import importlib, sys\n"
            f"for name in {modules!r}:\n    importlib.import_module(name)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'streamlit'))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]" and len(modules) > 15


def test_the_package_exports_what_all_names():
    import explorer

    assert set(explorer.__all__) == set(explorer._EXPORTS)
    assert all(callable(getattr(explorer, name)) or name == "DATASETS" for name in explorer.__all__)
