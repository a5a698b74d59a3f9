#!/usr/bin/env bash
# Creates (once) and activates the project's one virtual environment, keyed by a hash of requirements.txt.
# Sourced by scripts/app.sh (the app's requirements) and scripts/test.sh, which adds the test tools of
# requirements-dev.txt into the same environment (once per version of that file): whichever of the two
# README commands runs first, PyTorch is installed once. The environment lives outside the clone
# (AE_EXPLORER_VENV_ROOT, default ~/.cache/ae-explorer) so fresh clones reuse it.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
extra_file="${1:-}"
py="${PYTHON:-python3}"
req_hash="$(sha256sum < "$repo_root/requirements.txt" | cut -c1-16)"
venv_root="${AE_EXPLORER_VENV_ROOT:-$HOME/.cache/ae-explorer}"
venv="$venv_root/env-$("$py" -c 'import sys; print("%d%d" % sys.version_info[:2])')-$req_hash"
if [ ! -f "$venv/.complete" ]; then
  echo "Setting up the Python environment in $venv (first time only; torch is a large download)..."
  rm -rf "$venv"
  mkdir -p "$venv_root"
  "$py" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet -r "$repo_root/requirements.txt"
  touch "$venv/.complete"
fi
if [ -n "$extra_file" ]; then
  extra_stamp="$venv/.complete-$(basename "$extra_file" .txt)-$(sha256sum < "$repo_root/$extra_file" | cut -c1-16)"
  if [ ! -f "$extra_stamp" ]; then
    echo "Adding $extra_file to $venv (first time only)..."
    "$venv/bin/python" -m pip install --quiet -r "$repo_root/requirements.txt" -r "$repo_root/$extra_file"
    touch "$extra_stamp"
  fi
fi
# shellcheck disable=SC1091
source "$venv/bin/activate"
cd "$repo_root"
