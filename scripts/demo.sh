#!/usr/bin/env bash
# Set up (if needed) and run the app's main job on the bundled demo study with the demo weights.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .
exec .venv/bin/echoviewer demo "$@"
