#!/usr/bin/env bash
# Adds the test tools to the project environment (once; the one scripts/app.sh uses) and runs every test.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k checkpoint`.
set -euo pipefail
source "$(dirname "$0")/env.sh" requirements-dev.txt
exec python -m pytest "$@"
