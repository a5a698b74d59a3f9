#!/usr/bin/env bash
# Installs the project environment (once; shared with scripts/test.sh) and starts the app.
# Extra arguments go to `streamlit run`, e.g. `bash scripts/app.sh --server.port 8600`.
set -euo pipefail
source "$(dirname "$0")/env.sh" ""      # no test tools (an explicit "": a sourced script sees our arguments)
exec python -m explorer.app.launch "$@"
