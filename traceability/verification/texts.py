"""What each verdict and clone flag means for a shopper, in catalog strings (English msgids)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import flask_babel

from traceability import labels
from traceability.registry import certification_rules
from traceability.registry.models import CertificationStatus, ProducerType
from traceability.stamps.models import BatchStatus, RangeState
from traceability.verification.clones import CloneFlag, Kind
from traceability.verification.provinces import get_province
from traceability.verification.verdicts import Verdict


def _(text: str, **variables: Any) -> str:
    """Translate text (a catalog msgid) into the request's language."""
    return str(flask_babel.gettext(text, **variables))


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """Translate a message that depends on a count."""
    return str(flask_babel.ngettext(singular, plural, num, **variables))


ICONS = {
    Verdict.GENUINE: "✓",
    Verdict.FORGED: "✕",
    Verdict.UNKNOWN_KEY: "✕",
    Verdict.MALFORMED: "?",
    Verdict.REVOKED: "!",
    Verdict.NOT_ACTIVATED: "!",
    Verdict.CERTIFICATE_EXPIRED: "!",
    Verdict.SUSPICIOUS: "!",
}
SERIAL_TONE = "serial"  # neutral: a typed serial found an activated stamp, which proves nothing about the label


@dataclass(frozen=True)
class Explanation:
    verdict: Verdict
    title: str
    meaning: str
    advice: str | None
    icon: str
    tone: str  # the verdict's colour on the page: the verdict itself, or neutral for a typed serial


def compare_advice(has_photo: bool) -> str:
    """Return what to compare the product in hand with: the photo only when the office approved one."""
    if has_photo:
        return _("Check that the product in your hand matches the photo, name, producer and stars below.")
    return _("Check that the product in your hand matches the name, producer and stars below.")


def explain(
    verdict: Verdict, result: object | None = None, today: date | None = None, *, has_photo: bool = False
) -> Explanation:
    """Return the shopper's words for a verdict (with the detail the registry gives, where it helps)."""
    if verdict is Verdict.GENUINE and getattr(result, "by_serial", False):
        # Anyone can copy a serial: never the green "genuine" headline for one.
        return Explanation(
            verdict,
            _("Serial found — this stamp is activated"),
            _("The OCOP programme issued a stamp with this serial for the product below, and it was put on goods."),
            compare_advice(has_photo),
            "i",
            SERIAL_TONE,
        )
    title, meaning, advice = _words(verdict, result, today)
    if verdict is Verdict.GENUINE:
        advice = compare_advice(has_photo)
    return Explanation(verdict, title, meaning, advice, ICONS[verdict], verdict.value)


def _revoked_detail(result: object | None) -> str:
    batch = getattr(result, "batch", None)
    state = getattr(result, "state", None)
    if batch is not None and batch.status is BatchStatus.REVOKED:
        return _("The whole batch of stamps was withdrawn by the programme office.")
    if state is RangeState.REVOKED:
        return _("This stamp was revoked by the programme office.")
    if state is RangeState.VOIDED:
        return _("This stamp was cancelled because it was reported damaged or lost before use.")
    return _("It was signed with a key that was later stolen, after the last batch that key can be trusted for.")


def _certificate_detail(result: object | None, today: date | None) -> str:
    certification = getattr(result, "certification", None)
    if certification is None or today is None:
        return _("The product no longer holds its OCOP stars.")
    status = certification_rules.effective_status(certification, today)
    if status is CertificationStatus.REVOKED:
        return _("The product's OCOP certificate was revoked: it no longer holds its OCOP stars.")
    return _(
        "The product's OCOP certificate expired on %(day)s: it no longer holds its OCOP stars.",
        day=certification.valid_until.strftime("%d/%m/%Y"),
    )


def _words(verdict: Verdict, result: object | None, today: date | None) -> tuple[str, str, str | None]:
    report = _("Please do not buy it as an OCOP product, and report where you found it with the form below.")
    if verdict is Verdict.GENUINE:
        return (
            _("Genuine OCOP stamp"),
            _("This stamp was issued by the OCOP programme for the product below."),
            None,  # explain() says what to compare with: it knows whether there is a photo
        )
    if verdict is Verdict.FORGED:
        return (
            _("Fake stamp"),
            _("The digital signature in this code does not match: it was not issued by the OCOP programme."),
            report,
        )
    if verdict is Verdict.UNKNOWN_KEY:
        return (
            _("Unknown stamp"),
            _("This code names a signing key the OCOP programme never published, so it cannot be genuine."),
            report,
        )
    if verdict is Verdict.MALFORMED:
        return (
            _("Not a valid OCOP stamp code"),
            _("This code is damaged, incomplete, or not an OCOP stamp at all."),
            _(
                "If the QR code is damaged, type the serial printed under it on the home page. "
                "If the stamp looks fake, report it below."
            ),
        )
    if verdict is Verdict.REVOKED:
        return (_("Stamp withdrawn"), _revoked_detail(result), report)
    if verdict is Verdict.NOT_ACTIVATED:
        return (
            _("Stamp not activated"),
            _(
                "This stamp is real, but its producer has not yet marked it as put on goods. Most often the producer "
                "has simply not activated it yet; less often, the stamp was taken from the print run before use."
            ),
            _(
                "Ask the seller when the goods arrived. If they are new in the shop, check again in a day or two. "
                "If the stamp is still not activated, or something else seems wrong, report it with the form below: "
                "inspectors will check with the producer."
            ),
        )
    if verdict is Verdict.CERTIFICATE_EXPIRED:
        return (
            _("OCOP certificate not valid"),
            _certificate_detail(result, today),
            _("The product may still be fine, but it may not be sold as an OCOP product. You can report it below."),
        )
    return (_("Possible copy of a genuine stamp"), _suspicious_detail(result), report)


def _suspicious_detail(result: object | None) -> str:
    # Only strong evidence makes a stamp suspicious; scan patterns never do (services.assess).
    claim = getattr(result, "claim", None)
    if claim is not None and claim.repeated and claim.first_at is not None:
        province = get_province(claim.first_province) if claim.first_province else None
        return _(
            "This stamp is genuine, but its scratch-off code was claimed on %(day)s (%(where)s) and then again "
            "from elsewhere: copies of this label are in circulation.",
            day=flask_babel.format_datetime(claim.first_at, "dd/MM/yyyy"),
            where=province.name if province else _("province not told"),
        )
    return _(
        "This code is genuine, but it points to another website than the OCOP service: "
        "the QR code on the label may have been replaced."
    )


def flag_text(flag: CloneFlag) -> str:
    """Return a calm sentence for a clone flag (the inspectors' pages: flags are never shown publicly)."""
    names = [p.name for p in (get_province(code) for code in flag.provinces) if p is not None]
    if flag.kind is Kind.MANY_DEVICES:
        return ngettext(
            "This stamp has been scanned from %(num)d different phone.",
            "This stamp has been scanned from %(num)d different phones.",
            flag.count,
        )
    if flag.kind is Kind.MANY_PROVINCES:
        return _("This stamp has been scanned in %(num)d provinces: %(names)s.", num=flag.count, names=", ".join(names))
    if flag.kind is Kind.TYPED_SERIAL:
        return ngettext(
            "The serial of this stamp has been typed in from %(num)d phone instead of scanning its QR code.",
            "The serial of this stamp has been typed in from %(num)d different phones instead of scanning its QR code.",
            flag.count,
        )
    if flag.kind is Kind.IMPOSSIBLE_TRAVEL:
        return _(
            "This stamp was scanned in %(first)s and in %(second)s too soon after each other "
            "for one item to travel between them.",
            first=names[0] if names else "?",
            second=names[-1] if names else "?",
        )
    return ngettext(
        "This stamp was scanned from %(num)d phone before the producer put it on goods.",
        "This stamp was scanned from %(num)d phones before the producer put it on goods.",
        flag.count,
    )


def producer_type(value: ProducerType) -> str:
    """Return the name of a type of producer (the office's name for it too: traceability/labels.py)."""
    return labels.label(value)


def certification_status(value: CertificationStatus) -> str:
    """Return the name of a certification status (the office's name for it too: traceability/labels.py)."""
    return labels.label(value)
