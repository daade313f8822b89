#!/usr/bin/env bash
# Static checks: ruff (lint, import order), the import contract (layers, no Qt outside ui/, no cycles)
# and mypy on the core.
# Uses .venv/bin/python when there is one, else $PYTHON or python3 (with the `test` extra installed).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ -z "${PYTHON:-}" ] && [ -x .venv/bin/python ]; then
  PY=.venv/bin/python
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"  # check this tree, not an installed copy

echo "== ruff (rules in pyproject.toml)"
"$PY" -m ruff check echoviewer tests benchmarks scripts packaging docs

echo "== import contract (tests/import_contract.py)"
"$PY" -m pytest -q -p no:cacheprovider tests/test_architecture.py

echo "== mypy (core packages)"
"$PY" -m mypy echoviewer/__init__.py echoviewer/paths.py echoviewer/errors.py echoviewer/applog.py \
  echoviewer/io echoviewer/analysis echoviewer/models echoviewer/dataset echoviewer/pipeline \
  echoviewer/annotations echoviewer/export echoviewer/reports echoviewer/evaluation echoviewer/pacs echoviewer/batch \
  echoviewer/session echoviewer/formatting.py
