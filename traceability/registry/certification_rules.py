"""OCOP certification rules from domain.md: stars, scores, authorities and validity. Pure."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from traceability.errors import ValidationError
from traceability.i18n import N_
from traceability.registry.models import AuthorityLevel, Certification, CertificationStatus

VALIDITY_MONTHS = 36
# A late re-evaluation keeps the certificate valid until the decision, at most 180 days past expiry.
REEVALUATION_GRACE = timedelta(days=180)
# QĐ 1489/QĐ-TTg moved 3-star certification from the district to the province on this date.
DISTRICT_CERTIFICATION_ENDED = date(2025, 7, 6)
MIN_SCORE = {3: Decimal(50), 4: Decimal(70), 5: Decimal(90)}


def valid_until(decision_date: date) -> date:
    """Return the last day of validity: 36 months from the decision, less one day."""
    months = decision_date.month - 1 + VALIDITY_MONTHS
    year, month = decision_date.year + months // 12, months % 12 + 1
    day = decision_date.day
    while True:
        try:
            anniversary = date(year, month, day)
            break
        except ValueError:  # 29-31 of a shorter month: the anniversary is the month's last day + 1
            day -= 1
    return anniversary - timedelta(days=1) if day == decision_date.day else anniversary


def check(stars: int, score: Decimal, level: AuthorityLevel, decision_date: date) -> None:
    """Refuse a certification that the rules of the programme could not have produced."""
    if stars not in MIN_SCORE:
        raise ValidationError(N_("only 3, 4 or 5 stars are OCOP certified"), field="stars")
    if not Decimal(0) <= score <= Decimal(100):
        raise ValidationError(N_("the score is an average between 0 and 100"), field="score")
    # The rubric's minimum requirements can hold a product below the star its score reaches,
    # but never lift it above: a score under the star's floor is an error.
    if score < MIN_SCORE[stars]:
        raise ValidationError(
            N_("%(stars)s stars need a score of at least %(minimum)s, not %(score)s"),
            field="score",
            params={"stars": stars, "minimum": MIN_SCORE[stars], "score": score},
        )
    if stars == 5 and level is not AuthorityLevel.NATIONAL:
        raise ValidationError(
            N_("5-star products are certified by the Ministry (national level)"), field="authority_level"
        )
    if stars < 5 and level is AuthorityLevel.NATIONAL:
        raise ValidationError(N_("3- and 4-star products are certified by the province"), field="authority_level")
    if level is AuthorityLevel.DISTRICT and (stars != 3 or decision_date >= DISTRICT_CERTIFICATION_ENDED):
        raise ValidationError(
            N_("a district could certify only 3 stars, and only before 2025-07-06"), field="authority_level"
        )


def is_valid_on(certification: Certification, day: date) -> bool:
    """Say whether a certification lets its product carry OCOP stamps on the given day."""
    if certification.decision_date > day:
        return False
    if certification.status is CertificationStatus.RECOGNIZED:
        return day <= certification.valid_until
    if certification.status is CertificationStatus.IN_REEVALUATION:
        return day <= certification.valid_until + REEVALUATION_GRACE
    return False


def effective_status(certification: Certification, day: date) -> CertificationStatus:
    """Return the status as of day: a recognized certificate past its date reads as expired."""
    live = certification.status in (CertificationStatus.RECOGNIZED, CertificationStatus.IN_REEVALUATION)
    if live and day > certification.valid_until and not is_valid_on(certification, day):
        return CertificationStatus.EXPIRED
    return certification.status
