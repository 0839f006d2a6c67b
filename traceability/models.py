"""Every table of the service, imported in one place for Alembic and the tests."""

from traceability.accounts.models import User
from traceability.audit.models import AuditEntry
from traceability.db import Base
from traceability.ledger.models import LedgerCheckpoint, LedgerRecord
from traceability.printing.models import PrintJob
from traceability.registry.models import Certification, MaterialArea, Producer, Product, ProductPhoto
from traceability.stamps.models import Batch, SigningKey, StampRange
from traceability.verification.claims import ScratchClaim, ScratchFailure
from traceability.verification.models import Report, Scan, ScanDay

__all__ = [
    "AuditEntry",
    "Base",
    "Batch",
    "Certification",
    "LedgerCheckpoint",
    "LedgerRecord",
    "MaterialArea",
    "PrintJob",
    "Producer",
    "Product",
    "ProductPhoto",
    "Report",
    "Scan",
    "ScanDay",
    "ScratchClaim",
    "ScratchFailure",
    "SigningKey",
    "StampRange",
    "User",
]
