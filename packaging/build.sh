#!/usr/bin/env bash
# Build the double-click app: dist/echoviewer/echoviewer (one-folder PyInstaller build).
#
#   bash packaging/build.sh              # from anywhere; uses .venv when there is one, else python3
#   ECHOVIEWER_BUNDLE_WEIGHTS=DIR ...    # bundle the demo weights from DIR (default: weights/)
#   CLEAN=1 ...                          # discard PyInstaller's cache (build/pyinstaller) first
#   SELFTEST=1 ...                       # run `dist/echoviewer/echoviewer --selftest` afterwards
#
# Installs PyInstaller into the environment when it is missing. Prints the build time and size.
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  if [ -x .venv/bin/python ]; then PY=.venv/bin/python
  elif [ -x .venv/Scripts/python.exe ]; then PY=.venv/Scripts/python.exe
  else PY=python3; fi
fi

if ! "$PY" -c "import PyInstaller" 2>/dev/null; then
  echo "installing pyinstaller into $("$PY" -c 'import sys; print(sys.prefix)')"
  "$PY" -m pip install -q "pyinstaller>=6.10"
fi
if ! "$PY" -c "import echoviewer" 2>/dev/null; then
  "$PY" -m pip install -q -e .
fi

weights="${ECHOVIEWER_BUNDLE_WEIGHTS:-weights}"
for f in demo_segmentation.pt demo_segmentation.json demo_ef.pt demo_ef.json; do
  if [ ! -f "$weights/$f" ]; then
    echo "error: $weights/$f is missing: train the demo weights (echoviewer train --out weights)" \
         "or set ECHOVIEWER_BUNDLE_WEIGHTS to a folder holding them" >&2
    exit 2
  fi
done
export ECHOVIEWER_BUNDLE_WEIGHTS="$weights"

clean=()
if [ "${CLEAN:-0}" = "1" ]; then clean=(--clean); fi

start=$(date +%s)
"$PY" -m PyInstaller --noconfirm "${clean[@]}" --log-level "${PYI_LOG_LEVEL:-WARN}" \
  --distpath dist --workpath build/pyinstaller packaging/echoviewer.spec
secs=$(( $(date +%s) - start ))

exe=dist/echoviewer/echoviewer
[ -f "$exe" ] || exe=dist/echoviewer/echoviewer.exe
echo "built $exe in ${secs} s; $(du -sh dist/echoviewer | cut -f1) in dist/echoviewer"

if [ "${SELFTEST:-0}" = "1" ]; then
  "$exe" --selftest
fi
