"""Load the demo registry drawn from the seed provinces' OCOP plans, idempotently."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import date
from importlib import resources
from typing import Any

from sqlalchemy.orm import Session

from traceability.registry import services
from traceability.registry.services import AreaData, CertificationData, ProducerData, ProductData


def demo_document() -> dict[str, Any]:
    """Return the bundled demo data."""
    text = resources.files("traceability.registry").joinpath("demo_data.json").read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def _build(cls: type[Any], record: dict[str, Any]) -> Any:
    names = {f.name for f in fields(cls)}
    values = {k: v for k, v in record.items() if k in names}
    for key, value in values.items():
        if isinstance(value, str) and (key.endswith("_as_of") or key.endswith("_on") or key.endswith("_date")):
            values[key] = date.fromisoformat(value)
    return cls(**values)


def load_demo(session: Session, document: dict[str, Any] | None = None) -> dict[str, int]:
    """Create or update every demo record; running it twice changes nothing."""
    document = document or demo_document()
    for record in document["producers"]:
        services.save_producer(session, _build(ProducerData, record), is_demo=True)
    for record in document["areas"]:
        services.save_area(session, _build(AreaData, record), is_demo=True)
    certified = 0
    for record in document["products"]:
        product = services.save_product(session, _build(ProductData, record), is_demo=True)
        if record.get("certification"):
            services.add_certification(
                session, product, _build(CertificationData, record["certification"]), is_demo=True
            )
            certified += 1
    return {
        "producers": len(document["producers"]),
        "areas": len(document["areas"]),
        "products": len(document["products"]),
        "certifications": certified,
    }
