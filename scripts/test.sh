#!/usr/bin/env bash
# Installs the test environment (once; cached by requirements hash) and runs the whole test suite.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k checkpoint`.
set -euo pipefail
source "$(dirname "$0")/env.sh" requirements-dev.txt
exec python -m pytest "$@"
