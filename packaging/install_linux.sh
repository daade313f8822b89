#!/usr/bin/env bash
# Install the built app for the current user (no root): the folder under ~/.local/opt/echoviewer,
# a launcher in ~/.local/bin, the icon and the .desktop entry (application menu, "Open with").
#   bash packaging/install_linux.sh [DIST_FOLDER]     (default: dist/echoviewer)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="${1:-$here/../dist/echoviewer}"
[ -x "$src/echoviewer" ] || { echo "error: $src/echoviewer not found; run packaging/build.sh first" >&2; exit 2; }
prefix="${XDG_DATA_HOME:-$HOME/.local/share}"
opt="$HOME/.local/opt/echoviewer"
mkdir -p "$HOME/.local/opt" "$HOME/.local/bin" "$prefix/applications" "$prefix/icons/hicolor/512x512/apps"
rm -rf "$opt"
cp -a "$src" "$opt"
ln -sf "$opt/echoviewer" "$HOME/.local/bin/echoviewer"
cp "$here/icon.png" "$prefix/icons/hicolor/512x512/apps/echoviewer.png"
sed -e "s|^Exec=.*|Exec=\"$opt/echoviewer\" %f|" -e "s|^TryExec=.*|TryExec=$opt/echoviewer|" \
    "$here/echoviewer.desktop" > "$prefix/applications/echoviewer.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database "$prefix/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q "$prefix/icons/hicolor" || true
echo "installed to $opt; launcher: $prefix/applications/echoviewer.desktop"
