"""The audit log in the browser: who did what, in sentences; filters; a CSV export. Office staff only.

The sentences and the fields that changed come from audit.sentences; this module only translates them, turns
the filter's query string into an AuditFilter (or clear errors), and streams the export.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request, stream_with_context, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional

from traceability.accounts.guards import actor, require_office
from traceability.accounts.models import Role
from traceability.audit import export as audit_export
from traceability.audit import sentences
from traceability.audit import services as audit
from traceability.audit.models import AuditEntry
from traceability.db import get_session
from traceability.forms import Form
from traceability.i18n import N_
from traceability.labels import LABELS, STATE_LABELS
from traceability.registry.models import CertificationStatus, PhotoStatus, Product
from traceability.stamps.models import KeyStatus
from traceability.web import number

bp = Blueprint("office_audit", __name__, url_prefix="/office")
WORD_ENUMS = (Role, CertificationStatus, PhotoStatus, KeyStatus)

bp.before_request(require_office)

PER_PAGE = 50
FILTER_FIELDS = ("person", "action", "kind", "record", "since", "until")


class AuditFilterForm(Form):
    """The log's filters, read from the query string (a GET form: nothing to protect with a CSRF token)."""

    class Meta:
        csrf = False

    person = StringField(_l("Person (part of the email)"), validators=[Optional(), Length(max=200)])
    action = SelectField(_l("Action taken"), default="")
    kind = SelectField(_l("Kind of record"), default="", validate_choice=False)  # a kind added later still filters
    record = StringField(_l("Record (number or code)"), validators=[Optional(), Length(max=100)])
    since = DateField(_l("From (date)"), validators=[Optional()])
    until = DateField(_l("To (date, included)"), validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        actions = sorted(((code, _(name)) for code, name in sentences.NAMES.items()), key=lambda choice: choice[1])
        self.action.choices = [("", _("any action")), *actions]
        self.kind.choices = [("", _("any record")), *((k, _(v)) for k, v in sentences.TARGET_KINDS.items())]

    def validate(self, extra_validators: Mapping[str, Any] | None = None) -> bool:
        valid: bool = super().validate(extra_validators)
        if self.since.data and self.until.data and self.until.data < self.since.data:
            self.until.errors = [*self.until.errors, _("The end date is before the start date.")]
            valid = False
        if (self.record.data or "").strip() and not self.kind.data:
            self.kind.errors = [*self.kind.errors, _("Choose the kind of record the number or code belongs to.")]
            valid = False
        return valid


def _day_start(day: date) -> datetime:
    """Return the first instant of a day as the reader's clock shows it (Vietnam time), in UTC."""
    return datetime.combine(day, time(), tzinfo=get_timezone()).astimezone(UTC)


def _filter_args() -> dict[str, str]:
    """Return the filters of the query string (target=batch:12, the old links' form, read as kind and record)."""
    args = {name: request.args[name] for name in FILTER_FIELDS if request.args.get(name)}
    kind, _sep, key = request.args.get("target", "").partition(":")
    if kind and key and "kind" not in args:
        args.update(kind=kind, record=key)
    return args


def _read_filter() -> tuple[AuditFilterForm, audit.AuditFilter | None]:
    form = AuditFilterForm(formdata=MultiDict(_filter_args()))
    if not form.validate():
        return form, None
    until = form.until.data
    return form, audit.AuditFilter(
        actor=(form.person.data or "").strip() or None,
        action=form.action.data or None,
        target_kind=form.kind.data or None,
        target_id=(form.record.data or "").strip() or None,
        since=_day_start(form.since.data) if form.since.data else None,
        until=_day_start(until + timedelta(days=1)) if until else None,
    )


def product_names(entries: Iterable[AuditEntry]) -> dict[str, str]:
    """Return the names of the products the entries mention, by code (one query for the page)."""
    codes = {
        code
        for entry in entries
        for code in ((entry.after or {}).get("product"), (entry.before or {}).get("product"))
        if isinstance(code, str)
    }
    if not codes:
        return {}
    rows = get_session().execute(select(Product.code, Product.name).where(Product.code.in_(codes)))
    return {str(code): str(name) for code, name in rows}


def who(entry: AuditEntry) -> str:
    said = sentences.who(entry.actor)
    return str(_(said.msgid, **said.params))


def describe(entry: AuditEntry, names: Mapping[str, str] | None = None) -> str:
    """Return the entry as one sentence in the reader's language."""
    said = sentences.sentence(entry, names)
    params = {k: number(v) if isinstance(v, int) and not isinstance(v, bool) else v for k, v in said.params.items()}
    return str(_(said.msgid, who=who(entry), **params))


def field_label(change: sentences.Change) -> str:
    return _(change.label) if change.label else change.field


# Stored names of statuses and roles, with what people call them; batch and stamp states come first and with
# the names the other staff pages give them (labels.STATE_LABELS): "revoked" is a batch's before a certificate's.
_WORDS: dict[str, str] = {
    **{member.value: text for member, text in LABELS.items() if isinstance(member, WORD_ENUMS)},
    **STATE_LABELS,
}


def word(stored: str) -> str:
    """Return a stored state, status or role in the reader's language (as stored if it has no name)."""
    msgid = _WORDS.get(stored)
    return _(msgid) if msgid else stored


def value_text(value: Any, field: str | None = None) -> str:
    """Return a stored value as the reader reads it (audit.sentences.text with the reader's words)."""
    return sentences.text(value, word, field)


def target_text(entry: AuditEntry) -> str:
    said = sentences.target(entry)
    return str(_(said.msgid, **said.params))


def changes_text(entry: AuditEntry) -> str:
    """Return the changed fields as one line: "Status: issued → revoked; Reason: — → lô bị thu hồi"."""
    return "; ".join(
        f"{field_label(c)}: {value_text(c.before, c.field) or '—'} → {value_text(c.after, c.field) or '—'}"
        for c in sentences.changes(entry)
    )


@bp.app_context_processor
def audit_helpers() -> dict[str, object]:
    """Let any office page show entries ({% include "office/_audit_table.html" %}) in sentences."""
    return {
        "audit_sentence": describe,
        "audit_who": who,
        "audit_changes": sentences.changes,
        "audit_value": value_text,
        "audit_target": target_text,
        "audit_field": field_label,
        "audit_product_names": product_names,
    }


def _with_query(path: str, args: Mapping[str, str]) -> str:
    return f"{path}?{urlencode(args)}" if args else path


def _page_number() -> int:
    text = request.args.get("page", "1")
    return int(text) if text.isdigit() and len(text) < 8 else 1


@bp.get("/audit")
def log() -> ResponseReturnValue:
    form, wanted = _read_filter()
    if wanted is None:
        return render_template("office/audit.html", form=form, page=None, args=_filter_args()), 422
    page = audit.search(get_session(), wanted, page=_page_number(), per_page=PER_PAGE)
    return render_template(
        "office/audit.html",
        form=form,
        page=page,
        entries=page.rows,
        args=_filter_args(),
        export_url=_with_query(url_for("office_audit.export"), _filter_args()),
    )


def _csv_rows(session: Session, wanted: audit.AuditFilter) -> Iterator[list[str]]:
    """Yield the export's rows, then end the session's read.

    The request's teardown closes its session when the view returns, before the stream is read; reading here
    opens a new transaction on that session, which nothing else would end (on SQLite it holds the lock).
    """
    timezone = get_timezone()
    try:
        for entry in audit.stream(session, wanted):
            yield _csv_row(entry, timezone)
    finally:
        session.close()


def _csv_row(entry: AuditEntry, timezone: tzinfo) -> list[str]:
    return [
        entry.at.astimezone(timezone).isoformat(timespec="seconds"),
        entry.actor,
        entry.action,
        describe(entry),
        entry.target,
        changes_text(entry),
        audit_export.json_text(entry.before),
        audit_export.json_text(entry.after),
    ]


CSV_HEADER = (
    N_("When"),
    N_("Who"),
    N_("Action code"),
    N_("What happened"),
    N_("Record"),
    N_("Changes"),
    N_("Before"),
    N_("After"),
)


@bp.get("/audit.csv")
def export() -> ResponseReturnValue:
    """Download the filtered entries as CSV; the export is itself recorded, as every export of records is."""
    form, wanted = _read_filter()
    if wanted is None:
        return render_template("office/audit.html", form=form, page=None, args=_filter_args()), 422
    session = get_session()
    rows = audit.count(session, wanted)
    audit.record(session, actor(), "audit.export", "audit:log", after={"filters": _filter_args(), "rows": rows})
    session.commit()  # the export stands in the log before the first byte leaves
    header = [_(title) for title in CSV_HEADER]
    body = audit_export.lines(header, _csv_rows(session, wanted))
    stamp = datetime.now(get_timezone()).strftime("%Y%m%d-%H%M")
    return Response(
        stream_with_context(body),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="ocop-audit-{stamp}.csv"',
            "Cache-Control": "no-store",
        },
    )
