"""The ledger's error messages are in the catalogs, so the API can answer in Vietnamese."""

from __future__ import annotations

import re

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from traceability.config import PROJECT_ROOT

LEDGER = PROJECT_ROOT / "traceability" / "ledger"
CATALOG = PROJECT_ROOT / "traceability" / "translations" / "vi" / "LC_MESSAGES" / "messages.po"


def test_every_ledger_message_has_a_vietnamese_translation_with_the_same_placeholders() -> None:
    found = {m[2] for m in extract_from_dir(LEDGER, [("**.py", "python")], keywords={"N_": None})}
    with open(CATALOG, "rb") as handle:
        vi = {m.id: m.string for m in read_po(handle) if m.id}
    assert len(found) > 40
    missing = sorted(msgid for msgid in found if not vi.get(msgid))
    assert not missing, missing
    for msgid in found:
        assert set(re.findall(r"%\(\w+\)s", msgid)) == set(re.findall(r"%\(\w+\)s", str(vi[msgid]))), msgid
