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
res="$here/../resources"
app_id=org.echoviewer.EchoViewer
mkdir -p "$HOME/.local/opt" "$HOME/.local/bin" "$prefix/applications" "$prefix/icons" "$prefix/metainfo"
rm -rf "$opt"
cp -a "$src" "$opt"
ln -sf "$opt/echoviewer" "$HOME/.local/bin/echoviewer"
cp -r "$res/icons/hicolor" "$prefix/icons/"
cp "$res/linux/$app_id.metainfo.xml" "$prefix/metainfo/"
sed -e "s|^Exec=.*|Exec=\"$opt/echoviewer\" %f|" -e "s|^TryExec=.*|TryExec=$opt/echoviewer|" \
    "$res/linux/$app_id.desktop" > "$prefix/applications/$app_id.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database "$prefix/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q "$prefix/icons/hicolor" || true
echo "installed to $opt; launcher: $prefix/applications/$app_id.desktop"
