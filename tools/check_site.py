"""Open the built documentation site in headless Chromium and check it like a reader would.

    python tools/check_site.py            # builds nothing: checks ./site (run `mkdocs build --strict` first)
    python tools/check_site.py --build    # runs `mkdocs build --strict` into ./site, then checks

It serves the site on 127.0.0.1 (a free port) and, with Debian's ``chromium`` and
``chromium-driver`` driven through Selenium, checks that:

- every page loads with no error in the browser console (JavaScript errors, failed requests);
- every link inside the site (navigation, table of contents, text) answers 200, and following
  the footer's "Next" link from the home page walks the whole navigation in order;
- every figure is visible: each ``<img>`` has loaded (``naturalWidth > 0``) and each inline
  ``<svg>`` plot has a size;
- math was typeset (KaTeX spans, no KaTeX error);
- the search box returns results.

Needs: ``apt-get install -y chromium chromium-driver`` and ``pip install selenium``.
Offline by design: no driver or browser is downloaded (selenium-manager is bypassed by
giving the driver's path).  Exit status 0 when every check passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

CHROME_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage", "--window-size=1280,1000",
]
SEARCH_TERM = "gradient"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)  # the browser closing a connection early is normal


def serve(site: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve ``site`` on a free localhost port, in a background thread."""
    handler = functools.partial(QuietHandler, directory=str(site))
    server = QuietServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def site_pages(site: Path) -> list[str]:
    """Every page of the built site, as a path relative to its root ('' is the home page)."""
    pages = []
    for index in sorted(site.rglob("index.html")):
        relative = index.parent.relative_to(site).as_posix()
        if relative.startswith(("assets", "search")):
            continue
        pages.append("" if relative == "." else relative + "/")
    return sorted(pages)  # the home page ("") first


def start_browser(chromium: str, chromedriver: str, profile: str):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROME_FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)


class SiteChecker:
    def __init__(self, driver, base: str) -> None:
        self.driver = driver
        self.base = base
        self.failures: list[str] = []
        self.link_status: dict[str, int | str] = {}

    def fail(self, page: str, message: str) -> None:
        self.failures.append(f"/{page}: {message}")

    def load(self, page: str) -> None:
        self.driver.get(self.base + page)
        deadline = time.time() + 15
        while time.time() < deadline and self.driver.execute_script("return document.readyState") != "complete":
            time.sleep(0.05)
        time.sleep(0.3)  # let the page's scripts (KaTeX, search worker) run

    def console_errors(self) -> list[str]:
        return [entry["message"] for entry in self.driver.get_log("browser") if entry["level"] == "SEVERE"]

    def check_page(self, page: str) -> dict[str, int]:
        self.driver.get_log("browser")  # drop what earlier pages logged
        self.load(page)
        title = self.driver.title
        if "404" in title:
            self.fail(page, f"page not found (title {title!r})")
        for message in self.console_errors():
            self.fail(page, f"console error: {message}")
        counts = {"images": self.check_images(page), "svgs": self.check_inline_svgs(page)}
        counts["math"] = self.check_math(page)
        counts["links"] = self.check_links(page)
        return counts

    def check_images(self, page: str) -> int:
        images = self.driver.execute_script(
            "const imgs = [...document.querySelectorAll('article img')];"
            "imgs.forEach(i => i.scrollIntoView());"
            "return imgs.map(i => [i.getAttribute('src'), i.complete, i.naturalWidth,"
            " i.getBoundingClientRect().width]);"
        )
        time.sleep(0.2 if images else 0)
        for src, complete, natural_width, shown_width in images:
            if not complete or natural_width == 0 or shown_width == 0:
                self.fail(page, f"figure {src!r} is not visible (complete={complete}, naturalWidth={natural_width})")
        return len(images)

    def check_inline_svgs(self, page: str) -> int:
        sizes = self.driver.execute_script(
            "return [...document.querySelectorAll('article .build-figure svg')]"
            ".map(s => [s.getBoundingClientRect().width, s.getBoundingClientRect().height]);"
        )
        for width, height in sizes:
            if width < 50 or height < 50:
                self.fail(page, f"an inline SVG figure is {width:.0f}x{height:.0f} px: not visible")
        return len(sizes)

    def check_math(self, page: str) -> int:
        math, typeset, errors = self.driver.execute_script(
            "return [document.querySelectorAll('.arithmatex').length,"
            " document.querySelectorAll('.arithmatex .katex').length,"
            " document.querySelectorAll('.katex-error').length];"
        )
        if typeset < math:
            self.fail(page, f"{math - typeset} of {math} formulas were not typeset by KaTeX")
        if errors:
            self.fail(page, f"{errors} KaTeX errors")
        return math

    def check_links(self, page: str) -> int:
        hrefs = self.driver.execute_script("return [...document.querySelectorAll('a[href]')].map(a => a.href);")
        own = {href.split("#")[0] for href in hrefs if href.startswith(self.base)}
        for url in sorted(own):
            status = self.link_status.get(url)
            if status is None:
                status = self.link_status[url] = http_status(url)
            if status != 200:
                self.fail(page, f"link {url} answers {status}")
        return len(own)

    def check_next_links(self, expected: list[str]) -> None:
        """Follow the footer's "Next" link from the home page: it must visit every nav page, in order."""
        from selenium.webdriver.common.by import By

        self.load("")
        visited = [self.driver.current_url]
        for _ in range(len(expected) + 5):
            links = self.driver.find_elements(By.CSS_SELECTOR, "a.md-footer__link--next")
            if not links:
                break
            links[0].click()
            time.sleep(0.2)
            visited.append(self.driver.current_url)
        visited_pages = [url.replace(self.base, "", 1) for url in visited]
        missing = [page for page in expected if page not in visited_pages]
        if missing:
            self.fail("", f"the 'Next' links never reach: {', '.join('/' + page for page in missing)}")

    def check_search(self) -> int:
        from selenium.webdriver.common.by import By

        self.load("")
        self.driver.get_log("browser")  # page-load errors were reported by check_page
        self.driver.find_element(By.CSS_SELECTOR, "label.md-search__icon, .md-search__input").click()
        box = self.driver.find_element(By.CSS_SELECTOR, "input.md-search__input")
        box.send_keys(SEARCH_TERM)
        deadline = time.time() + 15
        results = 0
        while time.time() < deadline and results == 0:
            time.sleep(0.25)
            results = len(self.driver.find_elements(By.CSS_SELECTOR, ".md-search-result__item"))
        if results == 0:
            self.fail("", f"searching for {SEARCH_TERM!r} gave no results within 15 s")
        for message in self.console_errors():
            self.fail("", f"console error during search: {message}")
        return results


def http_status(url: str) -> int | str:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError as error:
        return f"error ({error})"


def nav_order(driver, base: str) -> list[str]:
    """The pages of the primary navigation, in the order a reader meets them."""
    driver.get(base)
    hrefs = driver.execute_script(
        "return [...document.querySelectorAll('.md-nav--primary a.md-nav__link[href]')].map(a => a.href);"
    )
    order: list[str] = []
    for href in hrefs:
        page = href.split("#")[0].replace(base, "", 1)
        if href.startswith(base) and page not in order:
            order.append(page)
    return order


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", default="site", help="the built site folder (default: site)")
    parser.add_argument("--build", action="store_true", help="run `mkdocs build --strict` into --site first")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--chromedriver", default=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    args = parser.parse_args(argv)
    site = Path(args.site).resolve()
    if args.build:
        subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)], check=True)
    if not (site / "index.html").exists():
        print(f"no built site at {site}: run `mkdocs build --strict` first (or pass --build)", file=sys.stderr)
        return 1
    for program in (args.chromium, args.chromedriver):
        if not Path(program).exists():
            print(f"{program} not found: apt-get install -y chromium chromium-driver", file=sys.stderr)
            return 1

    started = time.time()
    server, base = serve(site)
    profile = tempfile.mkdtemp(prefix="minidl-site-check-")
    driver = start_browser(args.chromium, args.chromedriver, profile)
    checker = SiteChecker(driver, base)
    try:
        pages = site_pages(site)
        for page in pages:
            counts = checker.check_page(page)
            print(f"  /{page:<40} {counts['links']:3d} links  {counts['images']:2d} img  "
                  f"{counts['svgs']:2d} svg  {counts['math']:3d} math")
        checker.check_next_links(nav_order(driver, base))
        results = checker.check_search()
        print(f"  search {SEARCH_TERM!r}: {results} results")
    finally:
        driver.quit()
        server.shutdown()
        shutil.rmtree(profile, ignore_errors=True)
    elapsed = time.time() - started
    if checker.failures:
        print(f"\nsite check FAILED ({len(checker.failures)} problems, {len(pages)} pages, {elapsed:.0f} s):")
        for failure in checker.failures:
            print("  " + failure)
        return 1
    print(f"\nsite check passed: {len(pages)} pages, {len(checker.link_status)} distinct links, {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
