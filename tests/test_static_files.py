"""Static files: content-hashed names, cached for good, gzip-compressed; the plain name still answers."""

from __future__ import annotations

import gzip
import re
from pathlib import Path
from typing import Any

from traceability.config import PROJECT_ROOT
from traceability.static_files import build, fingerprinted


def stylesheets(html: str) -> list[str]:
    return re.findall(r'<link rel="stylesheet" href="(/static/[^"]+)"', html)


def test_pages_name_stylesheets_by_their_content(client: Any) -> None:
    html = client.get("/").get_data(as_text=True)
    site = (PROJECT_ROOT / "static" / "site.css").read_bytes()
    assert stylesheets(html) == ["/static/" + fingerprinted("site.css", site)]
    assert re.fullmatch(r"/static/site\.[0-9a-f]{12}\.css", stylesheets(html)[0])


def test_a_hashed_stylesheet_is_immutable_and_compressed(client: Any) -> None:
    url = stylesheets(client.get("/login").get_data(as_text=True))[-1]
    with client.get(url, headers={"Accept-Encoding": "gzip, br"}) as response:
        response.get_data()
    assert response.status_code == 200 and response.mimetype == "text/css"
    cache = response.headers["Cache-Control"]
    assert "immutable" in cache and "public" in cache
    assert int(re.search(r"max-age=(\d+)", cache).group(1)) >= 365 * 24 * 3600  # type: ignore[union-attr]
    assert response.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in response.headers["Vary"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert gzip.decompress(response.data) == (PROJECT_ROOT / "static" / "portal.css").read_bytes()
    with client.get(url) as plain:  # a client that takes no compression gets the file as it is
        plain.get_data()
    assert "Content-Encoding" not in plain.headers
    assert plain.data == (PROJECT_ROOT / "static" / "portal.css").read_bytes()


def test_the_plain_name_answers_with_a_short_cache(client: Any) -> None:
    with client.get("/static/site.css") as response:
        assert response.status_code == 200
        assert "immutable" not in response.headers["Cache-Control"]
    assert client.get("/static/nothing.css").status_code == 404


def test_a_changed_file_gets_a_new_name(tmp_path: Path) -> None:
    source = tmp_path / "static"
    source.mkdir()
    (source / "site.css").write_text("body{color:#111}" * 50)
    folder, names = build(source)
    assert (folder / names["site.css"]).read_bytes() == (source / "site.css").read_bytes()
    assert (folder / (names["site.css"] + ".gz")).exists()
    (source / "site.css").write_text("body{color:#222}" * 50)
    assert build(source)[1]["site.css"] != names["site.css"]
