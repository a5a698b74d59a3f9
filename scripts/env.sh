#!/usr/bin/env bash
# Creates (once) and activates a virtual environment keyed by a hash of the requirement files.
# Sourced by scripts/app.sh and scripts/test.sh. The environment lives outside the clone
# (AE_EXPLORER_VENV_ROOT, default ~/.cache/ae-explorer) so fresh clones reuse it.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
req_file="${1:-requirements.txt}"
py="${PYTHON:-python3}"
req_hash="$(cat "$repo_root/requirements.txt" "$repo_root/$req_file" | sha256sum | cut -c1-16)"
venv_root="${AE_EXPLORER_VENV_ROOT:-$HOME/.cache/ae-explorer}"
venv="$venv_root/venv-$("$py" -c 'import sys; print("%d%d" % sys.version_info[:2])')-$req_hash"
if [ ! -f "$venv/.complete" ]; then
  echo "Setting up the Python environment in $venv (first time only; torch is a large download)..."
  rm -rf "$venv"
  mkdir -p "$venv_root"
  "$py" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  extra=()
  [ "$req_file" != requirements.txt ] && extra=(-r "$repo_root/$req_file")
  "$venv/bin/python" -m pip install --quiet -r "$repo_root/requirements.txt" "${extra[@]}"
  touch "$venv/.complete"
fi
# shellcheck disable=SC1091
source "$venv/bin/activate"
cd "$repo_root"
