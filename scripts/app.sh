#!/usr/bin/env bash
# Installs the app's environment (once; cached by requirements hash) and starts the app.
# Extra arguments go to `streamlit run`, e.g. `bash scripts/app.sh --server.port 8600`.
set -euo pipefail
source "$(dirname "$0")/env.sh" requirements.txt
exec python -m explorer.app.launch "$@"
