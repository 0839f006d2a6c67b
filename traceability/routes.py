"""Every blueprint of the service, in registration order."""

from __future__ import annotations

from flask import Blueprint


def blueprints() -> list[Blueprint]:
    """Return the blueprints to register."""
    from traceability.verification.views import bp as verification

    return [verification]
