"""Static files (CSS) served by WhiteNoise under content-hashed names, cached for a year and gzip-compressed.

A phone on a slow network then fetches site.css once: every page names `site.<hash>.css`, which never changes
(`Cache-Control: max-age=..., public, immutable`), so later pages cost no request for it, and the file travels
compressed. A new version of the file gets a new name. The plain name (`/static/site.css`) still answers, with a
short cache, for anyone who typed it. In production a reverse proxy may serve /static itself (deploy/nginx).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Any

from flask import Flask
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

HASH_LENGTH = 12


def fingerprinted(name: str, content: bytes) -> str:
    """Return a file's name with a hash of its content before the extension: site.css -> site.0123abcd4567.css."""
    stem, dot, extension = name.rpartition(".")
    digest = hashlib.sha256(content).hexdigest()[:HASH_LENGTH]
    return f"{stem}.{digest}.{extension}" if dot else f"{name}.{digest}"


def build(source: Path) -> tuple[Path, dict[str, str]]:
    """Copy the static files under their plain and hashed names, with .gz beside them; return folder and names.

    The folder is named after the content and this user, in the temporary directory: every worker of one
    release shares it, and a worker of a new release never serves an old file under a new name. The name can
    be worked out from the public files, so in a temporary directory that every local user may write, another
    user could create it first with files of their own: a folder is served only if this user owns it, nobody
    else may write in it and it is no link; otherwise this process builds a private one.
    """
    files = sorted(p for p in source.rglob("*") if p.is_file())
    contents = {p.relative_to(source).as_posix(): p.read_bytes() for p in files}
    names = {name: fingerprinted(name, content) for name, content in contents.items()}
    release = hashlib.sha256("".join(sorted(names.values())).encode()).hexdigest()[:HASH_LENGTH]
    folder = Path(tempfile.gettempdir()) / f"ocop-static-{os.getuid()}-{release}"
    if _ours(folder):
        return folder, names
    staging = Path(tempfile.mkdtemp(prefix="ocop-static-"))  # 0700, this user's
    compressor = Compressor(quiet=True)
    for name, content in contents.items():
        for written in (name, names[name]):
            target = staging / written
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            if compressor.should_compress(written):
                compressor.compress(str(target))
    # Atomic: another worker that built it first wins. Failing means one did (used below) or that someone
    # else's folder has the name (not used).
    with contextlib.suppress(OSError):
        os.rename(staging, folder)
    if _ours(folder):
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
        return folder, names
    return staging, names


def _ours(folder: Path) -> bool:
    """Tell whether a folder is a real directory of this user's that nobody else may write in."""
    try:
        info = folder.lstat()
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o022


def _headers(headers: Any, _path: str, _url: str) -> None:
    headers["X-Content-Type-Options"] = "nosniff"


def init_app(app: Flask) -> None:
    """Serve static files through WhiteNoise and make url_for('static', filename=...) name the hashed file."""
    if app.static_folder is None:
        return
    folder, names = build(Path(app.static_folder))
    hashed = set(names.values())
    prefix = (app.static_url_path or "/static").strip("/") + "/"
    app.wsgi_app = WhiteNoise(  # type: ignore[method-assign]
        app.wsgi_app,
        root=str(folder),
        prefix=prefix,
        max_age=300,
        allow_all_origins=False,
        add_headers_function=_headers,
        immutable_file_test=lambda _path, url: url.removeprefix("/" + prefix) in hashed,
    )

    def hashed_name(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and values.get("filename") in names:
            values["filename"] = names[values["filename"]]

    app.url_defaults(hashed_name)
