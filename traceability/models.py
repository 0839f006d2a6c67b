"""Every table of the service, imported in one place for Alembic and the tests."""

from traceability.db import Base
from traceability.registry.models import Certification, MaterialArea, Producer, Product
from traceability.stamps.models import Batch, SigningKey, StampRange

__all__ = [
    "Base",
    "Batch",
    "Certification",
    "MaterialArea",
    "Producer",
    "Product",
    "SigningKey",
    "StampRange",
]
