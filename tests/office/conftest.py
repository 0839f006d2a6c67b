"""The office tests' own fixture: a batch with scans and reports made through the public pages."""

from tests.office.analytics_support import stamped

__all__ = ["stamped"]
