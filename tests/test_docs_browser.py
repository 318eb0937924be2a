"""The built documentation site, opened page by page in a real headless Chromium.

A page fails on any of: a console error or uncaught exception (a script that
breaks, a resource that does not load), an image that does not load, maths
left untypeset (a raw ``\\(``, ``\\[`` or ``$$`` in the text, or a formula
without MathJax output), or a request for anything outside the site (it
must read offline). Search is tried as a learner would.

Chromium is driven over the DevTools protocol through a pipe
(``--remote-debugging-pipe``: JSON messages ending in a NUL byte on file
descriptors 3 and 4), so no client package is needed. The test skips when
no Chromium is installed (``.ci/run`` installs Debian's).
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
PAGE_DEADLINE = 60.0  # seconds for one page to load and typeset


def find_browser() -> str | None:
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


class BrowserError(RuntimeError):
    pass


def high_pipe() -> tuple[int, int]:
    """A pipe whose two ends are numbered 10 or more, closed on exec."""
    ends = []
    for fd in os.pipe():
        ends.append(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10))
        os.close(fd)
    return ends[0], ends[1]


class Chromium:
    """A headless Chromium and one page in it, driven over the DevTools pipe."""

    def __init__(self, executable: str) -> None:
        self.profile = tempfile.mkdtemp(prefix="kq-chromium-")
        # The pipes sit above descriptor 9 and close on exec; the child gets
        # its two ends as descriptors 3 and 4, which Chromium's pipe mode reads.
        to_child_r, to_child_w = high_pipe()
        from_child_r, from_child_w = high_pipe()

        def child_fds() -> None:
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)

        self.proc = subprocess.Popen(
            [
                executable,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                f"--user-data-dir={self.profile}",
                "--remote-debugging-pipe",
                "--window-size=1280,900",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,  # descriptors 3 and 4; every other one closes on exec
            preexec_fn=child_fds,
        )
        for fd in (to_child_r, from_child_w):
            os.close(fd)
        self.out, self.inp = to_child_w, from_child_r
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", session=True)

    # --- the protocol ----------------------------------------------------------

    def _send(self, message: dict) -> None:
        os.write(self.out, json.dumps(message).encode() + b"\0")

    def _receive(self, deadline: float) -> dict:
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.inp], [], [], left)[0]:
                raise BrowserError("Chromium did not answer in time")
            chunk = os.read(self.inp, 1 << 20)
            if not chunk:
                raise BrowserError("Chromium closed the DevTools pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, *, session: bool = False, timeout: float = 30, **params):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        self._send(message)
        deadline = time.monotonic() + timeout
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            self.events.append(self._receive(deadline))

    def evaluate(self, expression: str, timeout: float = PAGE_DEADLINE):
        result = self.call(
            "Runtime.evaluate",
            session=True,
            timeout=timeout,
            expression=expression,
            awaitPromise=True,
            returnByValue=True,
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    # --- pages ------------------------------------------------------------------

    def open(self, url: str) -> None:
        self.events = []
        self.call("Page.navigate", session=True, url=url)
        self.wait_for("Page.loadEventFired", PAGE_DEADLINE)

    def problems(self) -> list[str]:
        """Console errors, uncaught exceptions, failed loads and outside requests so far."""
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
                text = " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
                found.append(f"console.{params['type']}: {text}")
            elif method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                found.append(
                    f"uncaught: {details.get('exception', {}).get('description', details)}"
                )
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                entry = params["entry"]
                found.append(f"log: {entry['text']} {entry.get('url', '')}")
            elif method == "Network.loadingFailed" and not params.get("canceled"):
                found.append(f"failed to load: {params['errorText']} ({params['requestId']})")
            elif method == "Network.requestWillBeSent":
                url = params["request"]["url"]
                if not url.startswith(("file:", "data:", "about:", "blob:")):
                    found.append(f"request outside the site: {url}")
        return found

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=10)
        except BrowserError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.out)
        os.close(self.inp)
        shutil.rmtree(self.profile, ignore_errors=True)


# Loads every image (lazy ones too), waits for MathJax, and reports what it sees.
INSPECT = r"""
(async () => {
  const images = [...document.images];
  for (const img of images) img.loading = "eager";
  await Promise.all(images.map(img => img.decode().catch(() => null)));
  const broken = images.filter(img => !img.complete || img.naturalWidth === 0)
                       .map(img => img.getAttribute("src"));
  const formulas = document.querySelectorAll("span.math, div.math").length;
  if (formulas && window.MathJax && MathJax.startup) await MathJax.startup.promise;
  const typeset = document.querySelectorAll("mjx-container").length;
  // Visible text outside code, where raw TeX would show.
  const clone = document.body.cloneNode(true);
  clone.querySelectorAll("pre, code, script, style, mjx-container, .highlight")
       .forEach(e => e.remove());
  const text = clone.innerText;
  const raw = (text.match(/\\\(|\\\)|\\\[|\\\]|\$\$|\\(frac|sum|lVert|mathrm|min_)\b/g) || []);
  const column = document.querySelector("div.body");
  const width = column ? column.getBoundingClientRect().width : 0;
  const small = images
    .filter(img => img.naturalWidth > Math.ceil(img.getBoundingClientRect().width) + 1
                   && img.getBoundingClientRect().width > 0)
    .filter(img => !(img.closest("a") && img.closest("a").getAttribute("href")))
    .filter(img => !img.closest(".sphx-glr-thumbcontainer"))  // gallery thumbnails
    .map(img => img.getAttribute("src"));
  return {broken, formulas, typeset, raw, small, width, title: document.title,
          mathjax: !!window.MathJax};
})()
"""


@pytest.fixture(scope="module")
def browser():
    executable = find_browser()
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("CI has no Chromium: .ci/run installs Debian's chromium")
        pytest.skip("no Chromium installed (apt-get install chromium)")
    chromium = Chromium(executable)
    yield chromium
    chromium.close()


def page_report(browser: Chromium, path: Path) -> tuple[dict, list[str]]:
    browser.open(path.as_uri())
    report = browser.evaluate(INSPECT)
    return report, browser.problems()


def check_page(report: dict, problems: list[str]) -> list[str]:
    """Everything wrong with one page, as readable lines."""
    wrong = list(problems)
    wrong += [f"image did not load: {src}" for src in report["broken"]]
    if report["raw"]:
        wrong.append(f"raw TeX in the text: {sorted(set(report['raw']))}")
    if report["formulas"] and report["typeset"] < report["formulas"]:
        wrong.append(f"{report['formulas']} formulas but {report['typeset']} typeset by MathJax")
    wrong += [f"image shrunk with no link to full size: {src}" for src in report["small"]]
    return wrong


def test_every_page_loads_cleanly_offline(docs_site, browser):
    pages = sorted(
        p
        for p in docs_site.rglob("*.html")
        if "_static" not in p.parts and p.name not in ("search.html", "genindex.html")
    )
    assert len(pages) >= 30
    failures = {}
    formulas = typeset = 0
    for page in pages:
        report, problems = page_report(browser, page)
        wrong = check_page(report, problems)
        if wrong:
            failures[str(page.relative_to(docs_site))] = wrong
        formulas += report["formulas"]
        typeset += report["typeset"]
    assert not failures, "\n".join(f"{p}: {w}" for p, w in failures.items())
    # The maths is there and all of it typeset: the tutorial alone has dozens.
    assert formulas >= 100 and typeset >= formulas


def test_the_check_catches_a_broken_page(docs_site, browser, tmp_path):
    # The same checks on a copy of the site with two pages broken: the
    # tutorial gets a script error and an image that is not there; then
    # MathJax's file goes, and the internals page's formulas stay raw.
    site = tmp_path / "site"
    shutil.copytree(docs_site, site, ignore=shutil.ignore_patterns("_downloads", "jupyter*"))
    page = site / "tutorial.html"
    page.write_text(
        page.read_text().replace(
            "</body>",
            '<img src="_images/no_such_figure.png"><script>undefined_function()</script></body>',
        )
    )
    report, problems = page_report(browser, page)
    wrong = "\n".join(check_page(report, problems))
    assert "undefined_function is not defined" in wrong
    assert "image did not load: _images/no_such_figure.png" in wrong
    assert "raw TeX" not in wrong  # the formulas themselves are fine
    (site / "_static" / "mathjax" / "tex-chtml.js").unlink()
    report, problems = page_report(browser, site / "internals.html")
    wrong = "\n".join(check_page(report, problems))
    assert "raw TeX in the text" in wrong and "typeset by MathJax" in wrong
    assert "ERR_FILE_NOT_FOUND" in wrong


def search(browser: Chromium, site: Path, query: str) -> list[str]:
    """The result links of the site's own search page, best first."""
    from urllib.parse import quote

    browser.open(site.joinpath("search.html").as_uri() + "?q=" + quote(query))
    return browser.evaluate(
        r"""
        (async () => {
          for (let i = 0; i < 400; i++) {
            const status = document.querySelector("#search-results .search-summary");
            if (status && /finished|did not match/i.test(status.textContent)) break;
            await new Promise(r => setTimeout(r, 50));
          }
          return [...document.querySelectorAll("#search-results ul.search li a")]
                 .map(a => a.getAttribute("href"));
        })()
        """
    )


def test_search_finds_what_a_learner_types(docs_site, browser):
    found = search(browser, docs_site, "k-means++")
    top = found[:3]
    assert any(h.startswith("tutorial.html#") for h in top), found[:10]
    assert any(h.startswith("api/engine.html#") for h in top), found[:10]
    found = search(browser, docs_site, "kmeans_plusplus")
    assert found and found[0].endswith("#kmeans_quant.kmeans_plusplus"), found[:5]
    found = search(browser, docs_site, "centroid")
    assert any(h.startswith("tutorial.html") for h in found[:3]), found[:10]
    assert browser.problems() == []
