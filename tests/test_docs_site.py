"""tools/check_site.py, the browser check of the built site: the parts that need no browser."""

from __future__ import annotations

from pathlib import Path

from scripts import load_script

TOOL = Path(__file__).resolve().parents[1] / "tools" / "check_site.py"


def _tool():
    return load_script(TOOL)


def _fake_site(root: Path) -> Path:
    for page in ("", "autograd/", "api/nn/", "assets/javascripts/", "search/"):
        (root / page).mkdir(parents=True, exist_ok=True)
        (root / page / "index.html").write_text(f"<title>{page or 'home'}</title>")
    return root


def test_site_pages_lists_every_page_but_not_assets(tmp_path):
    assert _tool().site_pages(_fake_site(tmp_path)) == ["", "api/nn/", "autograd/"]


def test_the_local_server_answers_200_for_pages_and_404_for_missing_ones(tmp_path):
    tool = _tool()
    server, base = tool.serve(_fake_site(tmp_path))
    try:
        assert tool.http_status(base + "autograd/") == 200
        assert tool.http_status(base + "nowhere/") == 404
    finally:
        server.shutdown()


def test_chromium_is_started_with_the_offline_flags():
    flags = _tool().CHROME_FLAGS
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"):
        assert flag in flags


def test_missing_site_is_reported_not_crashed(tmp_path, capsys):
    assert _tool().main(["--site", str(tmp_path / "nothing")]) == 1
    assert "mkdocs build --strict" in capsys.readouterr().err
