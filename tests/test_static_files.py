"""Static files: content-hashed names, cached for good, gzip-compressed; the plain name still answers."""

from __future__ import annotations

import gzip
import re
import shutil
import stat
import tempfile
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


def _source(tmp_path: Path) -> Path:
    source = tmp_path / "static"
    source.mkdir()
    (source / "site.css").write_text("body{color:#111}")
    return source


def _release_folder(source: Path) -> Path:
    """Where build() shares the release's files between the workers of this user."""
    folder, _ = build(source)
    shutil.rmtree(folder)
    return folder


def test_a_folder_someone_else_could_write_is_never_served(tmp_path: Path, monkeypatch: Any) -> None:
    """The shared folder's name is predictable from the public static files: another local user can create it
    first, with a stylesheet of their own, in a temporary directory everyone may write. It must not be used."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    source = _source(tmp_path)
    planted = _release_folder(source)
    planted.mkdir(mode=0o777)
    planted.chmod(0o777)  # the umask narrowed mkdir's mode: anyone may write in it now
    name = fingerprinted("site.css", (source / "site.css").read_bytes())
    (planted / name).write_text("body{background:url(https://evil.example/x)}")
    folder, names = build(source)
    assert folder != planted
    assert (folder / names["site.css"]).read_text() == "body{color:#111}"
    assert not stat.S_IMODE(folder.stat().st_mode) & 0o077  # the folder served is this user's alone


def test_a_link_in_place_of_the_folder_is_never_followed(tmp_path: Path, monkeypatch: Any) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    source = _source(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    _release_folder(source).symlink_to(elsewhere)
    folder, names = build(source)
    assert folder.resolve() != elsewhere and not list(elsewhere.iterdir())
    assert (folder / names["site.css"]).read_text() == "body{color:#111}"


def test_the_workers_of_one_release_share_this_users_folder(tmp_path: Path, monkeypatch: Any) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    source = _source(tmp_path)
    first, _ = build(source)
    assert build(source)[0] == first and first.parent == temp
    assert stat.S_IMODE(first.stat().st_mode) == 0o700
