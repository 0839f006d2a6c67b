"""What an audit entry says to a person: one sentence per action code, and the fields it changed.

Pure: entries in, message ids with their parameters out. The page translates them (`gettext(msgid, **params)`)
in the reader's language; the catalogue below is the one list of action codes, and a test keeps it equal to
the codes the services record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from traceability.audit.models import AuditEntry
from traceability.i18n import N_

# One sentence per action code. Parameters: who, id (the record's key), product, count (stamps), first and
# last (a span of stamps), email, target (the raw "kind:key"). A sentence may use any of them.
SENTENCES: dict[str, str] = {
    "batch.request": N_("%(who)s requested batch %(id)s (%(product)s, %(count)s stamps)."),
    "batch.approve": N_("%(who)s approved batch %(id)s (%(product)s, %(count)s stamps)."),
    "batch.reject": N_("%(who)s rejected batch %(id)s (%(product)s, %(count)s stamps)."),
    "batch.revoke": N_("%(who)s revoked batch %(id)s (%(product)s, %(count)s stamps)."),
    "batch.reissue": N_("%(who)s returned %(count)s stamps (%(first)s to %(last)s) of batch %(id)s to issued."),
    "batch.print": N_("%(who)s marked %(count)s stamps (%(first)s to %(last)s) of batch %(id)s as printed."),
    "batch.activate": N_("%(who)s activated %(count)s stamps (%(first)s to %(last)s) of batch %(id)s (%(product)s)."),
    "batch.void": N_("%(who)s voided %(count)s stamps (%(first)s to %(last)s) of batch %(id)s (%(product)s)."),
    "batch.revoke_range": N_("%(who)s revoked %(count)s stamps (%(first)s to %(last)s) of batch %(id)s (%(product)s)."),
    "batch.export": N_("%(who)s exported the stamps of batch %(id)s as CSV."),
    "batch.scratch_codes": N_("%(who)s exported the scratch-off codes of batch %(id)s."),
    "batch.download": N_("%(who)s downloaded the print files of batch %(id)s."),
    "batch.print_files": N_("%(who)s prepared print files for batch %(id)s."),
    "key.generate": N_("%(who)s created signing key %(id)s."),
    "key.retire": N_("%(who)s retired signing key %(id)s."),
    "key.compromise": N_("%(who)s declared signing key %(id)s compromised."),
    "registry.producer.create": N_("%(who)s added producer %(id)s."),
    "registry.producer.update": N_("%(who)s changed producer %(id)s."),
    "registry.area.create": N_("%(who)s added raw-material area %(id)s."),
    "registry.area.update": N_("%(who)s changed raw-material area %(id)s."),
    "registry.product.create": N_("%(who)s added product %(id)s."),
    "registry.product.update": N_("%(who)s changed product %(id)s."),
    "registry.certification.create": N_("%(who)s recorded a certification decision for product %(id)s."),
    "registry.certification.status": N_("%(who)s changed the status of certification %(id)s."),
    "user.create": N_("%(who)s created the account %(email)s."),
    "user.reset_password": N_("%(who)s reset the password of %(email)s."),
    "user.enable": N_("%(who)s enabled the account %(email)s."),
    "user.disable": N_("%(who)s disabled the account %(email)s."),
    "user.lock": N_("%(who)s locked the account %(email)s after repeated wrong passwords."),
    "report.handle": N_("%(who)s handled shopper's report %(id)s."),
    "photo.upload": N_("%(who)s uploaded a photo of product %(id)s."),
    "photo.approve": N_("%(who)s approved a photo of product %(id)s for the public page."),
    "photo.reject": N_("%(who)s rejected a photo of product %(id)s."),
    "audit.export": N_("%(who)s exported %(count)s rows of the audit log."),
}
UNKNOWN = N_("%(who)s: %(action)s on %(target)s.")

# What each action is called in the log's filter.
NAMES: dict[str, str] = {
    "batch.request": N_("Batch requested"),
    "batch.approve": N_("Batch approved"),
    "batch.reject": N_("Batch rejected"),
    "batch.revoke": N_("Batch revoked"),
    "batch.reissue": N_("Stamps returned to issued"),
    "batch.print": N_("Stamps marked printed"),
    "batch.activate": N_("Stamps activated"),
    "batch.void": N_("Stamps voided"),
    "batch.revoke_range": N_("Stamps revoked"),
    "batch.export": N_("Batch exported as CSV"),
    "batch.scratch_codes": N_("Scratch-off codes exported"),
    "batch.download": N_("Print files downloaded"),
    "batch.print_files": N_("Print files prepared"),
    "key.generate": N_("Signing key created"),
    "key.retire": N_("Signing key retired"),
    "key.compromise": N_("Signing key declared compromised"),
    "registry.producer.create": N_("Producer added"),
    "registry.producer.update": N_("Producer changed"),
    "registry.area.create": N_("Raw-material area added"),
    "registry.area.update": N_("Raw-material area changed"),
    "registry.product.create": N_("Product added"),
    "registry.product.update": N_("Product changed"),
    "registry.certification.create": N_("Certification decision recorded"),
    "registry.certification.status": N_("Certification status changed"),
    "user.create": N_("Account created"),
    "user.reset_password": N_("Password reset"),
    "user.enable": N_("Account enabled"),
    "user.disable": N_("Account disabled"),
    "user.lock": N_("Account locked"),
    "report.handle": N_("Shopper's report handled"),
    "photo.upload": N_("Product photo uploaded"),
    "photo.approve": N_("Product photo approved"),
    "photo.reject": N_("Product photo rejected"),
    "audit.export": N_("Audit log exported"),
}

# How the log names who acted: "user:<email>", "cli:<login>", "system".
COMMAND_LINE = N_("%(login)s (command line)")
SYSTEM = N_("The system")

# What kinds of record the log names in its targets ("batch:12"), for the filter's choices.
TARGET_KINDS: dict[str, str] = {
    "batch": N_("Batches"),
    "product": N_("Products"),
    "producer": N_("Producers"),
    "area": N_("Raw-material areas"),
    "certification": N_("Certifications"),
    "user": N_("Users"),
    "key": N_("Signing keys"),
    "report": N_("Shoppers' reports"),
    "audit": N_("Audit log"),
}

# What one record is called where the log links its history ("batch:12" reads "batch 12").
TARGET_NAMES: dict[str, str] = {
    "batch": N_("batch %(id)s"),
    "product": N_("product %(id)s"),
    "producer": N_("producer %(id)s"),
    "area": N_("raw-material area %(id)s"),
    "certification": N_("certification %(id)s"),
    "user": N_("account %(id)s"),
    "key": N_("signing key %(id)s"),
    "report": N_("shopper's report %(id)s"),
    "audit": N_("the audit log"),
}

# Fields whose stored values are names of states, statuses or roles: shown in the reader's words.
WORD_FIELDS = frozenset({"status", "role", "state"})

# The fields of the records' snapshots, in the reader's words; a field not listed shows its stored name.
FIELDS: dict[str, str] = {
    "status": N_("Status"),
    "product": N_("Product"),
    "quantity": N_("Stamps"),
    "lot": N_("Lot"),
    "key": N_("Signing key"),
    "stars": N_("Stars"),
    "decided_by": N_("Decided by"),
    "decision_reason": N_("Reason"),
    "revocation_reason": N_("Revoked because"),
    "ranges": N_("Stamps by state"),
    "span": N_("Stamps"),
    "reason": N_("Reason"),
    "note": N_("Note"),
    "email": N_("Email"),
    "role": N_("Role"),
    "producer": N_("Producer"),
    "is_active": N_("Active"),
    "name": N_("Name"),
    "short_name": N_("Short name"),
    "address": N_("Address"),
    "phone": N_("Phone"),
    "format": N_("Format"),
    "photo": N_("Photo"),
    "size": N_("Size"),
    "locked_until": N_("Locked until"),
    "certifications": N_("Certifications"),
}


@dataclass(frozen=True)
class Sentence:
    msgid: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Change:
    field: str
    label: str | None  # a msgid from FIELDS, or None: show the field's stored name
    before: Any
    after: Any


def who(actor: str) -> Sentence:
    """Return how a person reads the actor of an entry."""
    kind, _, name = actor.partition(":")
    if kind == "user" and name:
        return Sentence("%(name)s", {"name": name})
    if kind == "cli" and name:
        return Sentence(COMMAND_LINE, {"login": name})
    if actor == "system":
        return Sentence(SYSTEM, {})
    return Sentence("%(name)s", {"name": actor})


def _snapshot(entry: AuditEntry) -> Mapping[str, Any]:
    return entry.after or entry.before or {}


def sentence(entry: AuditEntry, product_names: Mapping[str, str] | None = None) -> Sentence:
    """Return the sentence of an entry: its message id, and its parameters except `who` (see who())."""
    kind, _, key = entry.target.partition(":")
    facts = _snapshot(entry)
    params: dict[str, Any] = {"id": key, "target": entry.target, "action": entry.action}
    product = facts.get("product")
    if isinstance(product, str):
        params["product"] = (product_names or {}).get(product, product)
    else:
        params["product"] = key if kind == "product" else ""
    params["count"] = facts.get("quantity", facts.get("stamps", facts.get("rows", "")))
    span = facts.get("span")
    if _span(span):
        # Stored numbers start at 0; people count stamps from 1.
        params.update(count=span[1] - span[0], first=span[0] + 1, last=span[1])
    params["email"] = facts.get("email", key)
    return Sentence(SENTENCES.get(entry.action, UNKNOWN), params)


def target(entry: AuditEntry) -> Sentence:
    """Return how a person reads the record an entry is about ("batch 12", not "batch:12")."""
    kind, _, key = entry.target.partition(":")
    name = TARGET_NAMES.get(kind)
    return Sentence(name, {"id": key}) if name else Sentence("%(id)s", {"id": entry.target})


def _rows(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(r, list) and len(r) == 3 and isinstance(r[0], int) and isinstance(r[1], int) for r in value
    )


def _span(value: Any) -> TypeGuard[list[int]]:
    return isinstance(value, list) and len(value) == 2 and all(isinstance(n, int) for n in value)


def _stamps(start: int, end: int) -> str:
    """Write stored stamp numbers [start, end) as people count them: from 1, "1–300", or "5" for one."""
    return f"{start + 1}–{end}" if end - start > 1 else f"{start + 1}"


def text(value: Any, word: Callable[[str], str] = str, field: str | None = None) -> str:
    """Write a stored value for reading: stamp ranges as "1–300 issued", lists and objects without JSON marks.

    `word` names a stored state, status or role in the reader's language (the page passes a translator); it
    applies to the states of stamp ranges and to the values of WORD_FIELDS.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if _rows(value):
        return "; ".join(f"{_stamps(start, end)} {word(state)}" for start, end, state in value)
    if field == "span" and _span(value):
        return _stamps(*value)
    if isinstance(value, list):
        return "; ".join(text(item, word) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {text(v, word, k)}" for k, v in value.items() if v not in (None, "", []))
    if isinstance(value, str) and field in WORD_FIELDS:
        return word(value)
    return str(value)


def changes(entry: AuditEntry) -> list[Change]:
    """Return the fields whose value differs before and after (every filled field of a new record)."""
    before, after = entry.before or {}, entry.after or {}
    found = []
    for name in [*before, *(k for k in after if k not in before)]:
        old, new = before.get(name), after.get(name)
        if old == new or (entry.before is None and new in (None, "", [])):
            continue
        found.append(Change(name, FIELDS.get(name), old, new))
    return found
