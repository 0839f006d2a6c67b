"""Where a login may send the browser afterwards: a path on this site, never another host."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

# Printable ASCII without the space and the backslash. Browsers drop tabs and newlines from URLs and read
# "\" as "/", so "/\t/evil" and "/\evil" become "//evil": another site. A header cannot carry a newline.
_ALLOWED = frozenset(chr(code) for code in range(0x21, 0x7F)) - {"\\"}


def _plain(text: str) -> bool:
    return all(character in _ALLOWED for character in text)


def safe_next(target: str | None) -> str | None:
    """Return target if it is a path on this site, else None."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    # Also check the text once percent-decoded: a later hop (a proxy, a browser) may decode it.
    decoded = unquote(target)
    if not _plain(target) or not _plain(decoded) or decoded.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
