"""HTML: self-contained, escaped, charts inline — checked statically and in headless Chromium.

The browser test serves pages from a loopback HTTP server that records every request. Hostile
notes point at that server (images, stylesheets, scripts, frames, CSS imports). A control page
holding the same payload *unescaped* proves the harness sees both a script running and a
request leaving; then the report (with its CSP, and again with the CSP removed, so escaping is
shown to be enough on its own) must do neither.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from ircli.audit.store import AuditStore
from ircli.incident.service import IncidentService
from ircli.report import Report, build_report, render_html
from ircli.report.html import CSP
from tests.report.conftest import GENERATED_AT

BROWSER = next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
)


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.title: list[str] = []
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))
        self._in_title = tag == "title" and len(self.title) == 0

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False if tag == "title" else self._in_title

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)


def parse(document: str) -> Elements:
    elements = Elements()
    elements.feed(document)
    return elements


def test_html_is_self_contained_and_escaped(report: Report) -> None:
    document = render_html(report)
    elements = parse(document)
    tags = {tag for tag, _ in elements.found}
    assert "script" not in tags
    assert "iframe" not in tags
    assert "img" not in tags
    for tag, attrs in elements.found:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        for name in ("src", "href"):
            assert attrs.get(name) in (None, "data:,"), (tag, attrs)
    assert f'content="{CSP}"' in document
    style = document[document.index("<style>") : document.index("</style>")]
    assert not re.search(r"url\(|@import|@font-face|://", style)
    for tag, attrs in elements.found:
        for name, value in attrs.items():
            assert name == "xmlns" or "://" not in (value or ""), (tag, name, value)
    assert "&lt;script&gt;document.title=&#x27;PWNED&#x27;&lt;/script&gt;" in document
    assert "\x1b" not in document
    assert "\u202e" not in document
    assert 'id="chart-actions"' in document
    assert 'id="chart-containment"' in document
    assert "@media print" in document
    assert document.rstrip().endswith("</html>")
    footer = document[document.index('<footer id="audit-anchor">') :]
    assert f"{report.audit.head_seq}:{report.audit.head_hash}" in footer
    assert f"Verification: {report.audit.summary}</li>" in footer


class Recorder(BaseHTTPRequestHandler):
    pages: ClassVar[dict[str, bytes]] = {}
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        Recorder.seen.append(self.path)
        body = Recorder.pages.get(self.path, b"")
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Recorder.pages, Recorder.seen = {}, []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def dump_dom(url: str, profile: Path) -> Elements:
    if BROWSER is None:
        pytest.skip("chromium is not installed (.ci/run installs Debian's chromium package)")
    result = subprocess.run(
        [BROWSER, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return parse(result.stdout)


def payload(base: str) -> str:
    return (
        f"<script>document.title='PWNED'</script>"
        f'<img src="{base}/leak-img" onerror="document.title=\'PWNED\'">'
        f'<link rel=stylesheet href="{base}/leak-css">'
        f"<style>@import url({base}/leak-import);</style>"
        f'<iframe src="{base}/leak-frame"></iframe>'
        f'<script src="{base}/leak-script"></script>'
        f'<svg><image href="{base}/leak-svg"/></svg>'
        f"![x]({base}/leak-md) [y](javascript:document.title='PWNED')"
    )


def test_report_in_headless_chromium_runs_no_script_and_fetches_nothing(
    store: AuditStore, incident: str, server: str, tmp_path: Path
) -> None:
    hostile = payload(server)
    IncidentService(store).add_note(incident, hostile, kind="communication")
    document = render_html(build_report(store, incident, now=GENERATED_AT))
    Recorder.pages = {
        "/control.html": f"<html><title>ok</title><body>{hostile}</body></html>".encode(),
        "/report.html": document.encode(),
        "/no-csp.html": document.replace(
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">', ""
        ).encode(),
    }
    assert Recorder.pages["/no-csp.html"] != Recorder.pages["/report.html"]

    control = dump_dom(f"{server}/control.html", tmp_path / "profile-control")
    assert "".join(control.title) == "PWNED"
    assert "/leak-img" in Recorder.seen  # the harness does see a request leave

    for page in ("/report.html", "/no-csp.html"):
        Recorder.seen = []
        dom = dump_dom(f"{server}{page}", tmp_path / f"profile{page.replace('/', '-')}")
        assert "".join(dom.title).startswith("Post-incident report: Live flood <script>")
        assert Recorder.seen == [page], f"{page} made requests: {Recorder.seen}"
        tags = [tag for tag, _ in dom.found]
        assert "script" not in tags
        assert "iframe" not in tags
        assert "img" not in tags
        ids = {attrs.get("id") for _, attrs in dom.found}
        assert {"chart-actions", "chart-containment", "audit-anchor", "verification"} <= ids
        classes = [attrs.get("class") for _, attrs in dom.found]
        assert "bar" in classes
        assert "curve" in classes
        assert "phase" in classes
