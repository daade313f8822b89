#!/usr/bin/env bash
# Debian packages the tests use as the real thing: the desktop's validators for resources/, the DICOM
# standard's validators (dciodvfy, dsrdump), poppler (pdftotext, pdftoppm), a headless browser and
# Orthanc with its DICOMweb plugin (the PACS of tests/pacs; openssl makes its test certificates).
# Installed when missing, as root (CI) or through passwordless sudo; otherwise says what to install.
set -euo pipefail
PACKAGES=(desktop-file-utils appstream dicom3tools dcmtk poppler-utils chromium orthanc orthanc-dicomweb openssl)
TOOLS=(desktop-file-validate appstreamcli dciodvfy dsrdump pdftotext pdftoppm chromium openssl)
missing=0
for t in "${TOOLS[@]}"; do command -v "$t" >/dev/null || missing=1; done
# Orthanc (the PACS the tests run against) lives in /usr/sbin, often not on a user's PATH.
command -v Orthanc >/dev/null || [ -x /usr/sbin/Orthanc ] || missing=1
[ -f /usr/share/orthanc/plugins/libOrthancDicomWeb.so ] || missing=1
[ "$missing" = 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "system-deps: install ${PACKAGES[*]} with your package manager (the tests need them)" >&2; exit 0
fi
if [ "$(id -u)" = 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo -n"; else
  echo "system-deps: run 'sudo apt-get install ${PACKAGES[*]}' (the tests need them)" >&2; exit 0
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
