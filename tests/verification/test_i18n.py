"""Every string of the site is in the catalogs: Vietnamese complete, English identity, .mo current."""

from __future__ import annotations

import io

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

from traceability.config import PROJECT_ROOT

TRANSLATIONS = PROJECT_ROOT / "traceability" / "translations"
# The same keywords as the extract command in traceability/translations/README.md.
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None, "N_": None, "Nn_": (1, 2)}


def catalog(locale: str, kind: str = "po") -> dict[object, object]:
    path = TRANSLATIONS / locale / "LC_MESSAGES" / f"messages.{kind}"
    with open(path, "rb") as handle:
        read = read_po(handle) if kind == "po" else read_mo(handle)

    def key(value: object) -> object:
        return tuple(value) if isinstance(value, list | tuple) else value

    return {key(m.id): key(m.string) for m in read if m.id}


def extracted() -> set[object]:
    with open(TRANSLATIONS / "babel.cfg", encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(io.StringIO(handle.read()))
    messages = extract_from_dir(PROJECT_ROOT, method_map, options_map, keywords=KEYWORDS)
    return {message[2] for message in messages}


def test_every_string_is_translated_into_vietnamese() -> None:
    strings = extracted()
    assert len(strings) > 100
    vi = catalog("vi")
    missing = [s for s in strings if s not in vi or not all(vi[s] if isinstance(vi[s], tuple) else [vi[s]])]
    assert not missing, f"run pybabel extract/update (see traceability/translations/README.md): {missing}"


def test_english_is_the_identity() -> None:
    assert all(string == msgid for msgid, string in catalog("en").items())
    assert catalog("en").keys() == catalog("vi").keys()


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_compiled_catalog_matches_its_source(locale: str) -> None:
    assert catalog(locale, "mo") == catalog(locale, "po"), "run pybabel compile -d traceability/translations"


def test_placeholders_survive_translation() -> None:
    import re

    for msgid, string in catalog("vi").items():
        ids = msgid if isinstance(msgid, tuple) else (msgid,)
        strings = string if isinstance(string, tuple) else (string,)
        wanted = set(re.findall(r"%\(\w+\)[sd]", ids[0]))
        assert all(set(re.findall(r"%\(\w+\)[sd]", s)) == wanted for s in strings), msgid


def test_readme_explains_how_to_update() -> None:
    assert "pybabel compile" in (TRANSLATIONS / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?endpoint=x", "/?endpoint=x&amp;lang=en"),
        ("?_method=POST", "/?_method=POST&amp;lang=en"),
        ("?_external=1&lang=vi", "/?_external=1&amp;lang=en"),
        ("?x=%3Cb%3E&x=2", "/?x=%3Cb%3E&amp;x=2&amp;lang=en"),
    ],
)
def test_language_links_keep_the_query_and_cannot_steer_url_building(
    client: FlaskClient, query: str, expected: str
) -> None:
    response = client.get("/" + query)
    assert response.status_code == 200
    header = response.get_data(as_text=True).split("</header>")[0]
    assert f'href="{expected}"' in header
    assert "http://" not in header
