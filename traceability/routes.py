"""Every blueprint of the service, in registration order."""

from __future__ import annotations

from flask import Blueprint


def blueprints() -> list[Blueprint]:
    """Return the blueprints to register."""
    from traceability.accounts.views import bp as accounts
    from traceability.health import bp as health
    from traceability.ledger.views import bp as ledger
    from traceability.office.analytics import bp as office_analytics
    from traceability.office.audit_views import bp as office_audit
    from traceability.office.photo_views import bp as office_photos
    from traceability.office.registry_views import bp as office_registry
    from traceability.office.views import bp as office
    from traceability.portal.photo_views import bp as portal_photos
    from traceability.portal.views import bp as portal
    from traceability.registry.views import bp as photos
    from traceability.verification.views import bp as verification

    return [
        health,
        verification,
        ledger,
        photos,
        accounts,
        portal,
        portal_photos,
        office,
        office_registry,
        office_analytics,
        office_audit,
        office_photos,
    ]
