#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite headless. This is the README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# torch==2.14.1 / torchvision==0.29.1 come from this machine's local wheel store; no second torch build.
.venv/bin/python -m pip install -q -e '.[test,cluster]'
bash scripts/lint.sh
export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest -q "$@"
