"""report.html opens in a real browser (Chromium from Debian, headless) with every figure decoded."""

import os
import re
import shutil
import subprocess

import pytest

#: counts the page's images once it has loaded, and the broken ones, into the title; records script errors
PROBE = """<script>
window.onerror = (m) => { document.title = "SCRIPT ERROR " + m; };
window.addEventListener("load", () => {
  const all = [...document.images];
  const broken = all.filter((i) => !(i.complete && i.naturalWidth > 0));
  document.title = "IMAGES " + all.length + " BROKEN " + broken.length;
});
</script>"""


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("chromium is missing: CI must install it (scripts/system-deps.sh)")
    pytest.skip("chromium (the Debian package) is not installed")


def _title(page) -> str:
    r = subprocess.run([chromium(), "--headless", "--disable-gpu", "--no-sandbox", "--virtual-time-budget=5000",
                        "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    m = re.search(r"<title>([^<]*)</title>", r.stdout)
    assert m, r.stdout[:500]
    return m.group(1)


def test_report_opens_in_headless_chromium_with_every_image(evaluation, tmp_path):
    res, _ = evaluation
    html = res.report_path.read_text(encoding="utf-8")
    n_img = html.count("<img ")
    page = tmp_path / "probe.html"
    page.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    assert _title(page) == f"IMAGES {n_img} BROKEN 0"
    # the probe itself catches a broken image
    page.write_text(html.replace("</body>", '<img src="missing.png">' + PROBE + "</body>"), encoding="utf-8")
    assert _title(page) == f"IMAGES {n_img + 1} BROKEN 1"
