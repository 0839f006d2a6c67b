"""The JSON form of a verification, shared by the API and `traceability verify --json`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from traceability.registry.classification import get_product_set
from traceability.registry.models import Certification, MaterialArea, Producer, Product
from traceability.registry.places import current_province
from traceability.verification.trustlist import timestamp
from traceability.verification.verdicts import Outcome

if TYPE_CHECKING:
    from traceability.verification.services import Verification

MAX_ECHO = 300
LEDGER_CHECKPOINT_PATH = "/api/v1/ledger/checkpoint"  # the ledger blueprint serves it


def outcome_record(code: str, outcome: Outcome) -> dict[str, Any]:
    """Return the JSON record of an outcome: verdict, flags, reasons and what the code itself says."""
    record: dict[str, Any] = {
        "code": code if len(code) <= MAX_ECHO else code[:MAX_ECHO] + "…",
        "verdict": outcome.verdict.value,
        "flags": [flag.value for flag in outcome.flags],
        "reasons": {verdict.value: reason for verdict, reason in outcome.findings.items()},
    }
    if outcome.parsed is not None:
        body = outcome.parsed.body
        record["stamp"] = {
            "key_id": body.key_id,
            "batch": body.batch_id,
            "sequence": body.sequence,
            "product_ref": body.product_ref,
            "stars": body.stars,
            "certificate_valid_until": body.valid_until.isoformat(),
        }
    return record


def verification_record(code: str, result: Verification, *, evidence: bool = False) -> dict[str, Any]:
    """Return the full record of an online verification (registry data only for trusted codes).

    Clone flags are evidence for inspectors, not for the public: only with `evidence` (the operator's CLI).
    """
    record = outcome_record(code, result.outcome)
    record["checked_by"] = "serial" if result.by_serial else "signature"
    if result.batch is None or result.product is None:
        return record
    batch = result.batch
    stamp = record.setdefault("stamp", {})
    stamp.update(
        {
            "batch": batch.id,
            "sequence": result.sequence,
            "serial": result.serial,
            "state": result.state.value if result.state else None,
            "lot": batch.lot,
            "production_date": batch.production_date.isoformat() if batch.production_date else None,
            "expiry_date": batch.expiry_date.isoformat() if batch.expiry_date else None,
        }
    )
    record["product"] = product_record(result.product)
    record["producer"] = producer_record(result.product.producer)
    record["material_areas"] = [area_record(area) for area in result.product.areas]
    record["certification"] = certification_record(result.certification) if result.certification else None
    summary = result.scan_summary
    record["scans"] = {
        "count": summary.count if summary else 0,
        "first_scanned_at": timestamp(summary.first_at) if summary and summary.first_at else None,
        "first_province": summary.first_province if summary else None,
    }
    if result.ledger is not None:
        record["ledger"] = {
            "index": result.ledger.index,
            "tree_size": result.ledger.tree_size,
            "checkpoint_url": LEDGER_CHECKPOINT_PATH,
        }
    if result.claim is not None:
        record["scratch_off"] = {
            "claimed": result.claim.claimed,
            "first_claimed_at": timestamp(result.claim.first_at) if result.claim.first_at else None,
            "first_claim_province": result.claim.first_province,
        }
    if evidence:
        record["clone_flags"] = [flag.to_dict() for flag in result.clone_flags]
    return record


def product_record(product: Product) -> dict[str, Any]:
    product_set = get_product_set(product.product_set)
    return {
        "code": product.code,
        "name": product.name,
        "description": product.description,
        "gtin": product.gtin,
        "image_url": product.image_url,
        "product_set": {
            "key": product.product_set,
            "name_vi": product_set.name_vi if product_set else None,
            "name_en": product_set.name_en if product_set else None,
            "sector_vi": product_set.sector.name_vi if product_set else None,
            "sector_en": product_set.sector.name_en if product_set else None,
        },
    }


def producer_record(producer: Producer) -> dict[str, Any]:
    now = current_province(producer.address_scheme.value, producer.province_code)
    return {
        "code": producer.code,
        "name": producer.name,
        "type": producer.type.value,
        "address": producer.address,
        "commune": producer.commune,
        "district": producer.district,
        "province": producer.province,
        "province_code": producer.province_code,
        "address_scheme": producer.address_scheme.value,
        "province_now": {"code": now.code, "name": now.name} if now else None,
    }


def area_record(area: MaterialArea) -> dict[str, Any]:
    return {
        "code": area.code,
        "name": area.name,
        "material": area.material,
        "growing_area_code": area.growing_area_code,
        "code_status": area.code_status.value if area.code_status else None,
        "size_ha": float(area.size_ha) if area.size_ha is not None else None,
        "commune": area.commune,
        "district": area.district,
        "province": area.province,
        "latitude": float(area.latitude) if area.latitude is not None else None,
        "longitude": float(area.longitude) if area.longitude is not None else None,
        "certifications": list(area.certifications or []),
    }


def certification_record(certification: Certification) -> dict[str, Any]:
    return {
        "stars": certification.stars,
        "decision_number": certification.decision_number,
        "decision_date": certification.decision_date.isoformat(),
        "authority": certification.authority,
        "authority_level": certification.authority_level.value,
        "valid_until": certification.valid_until.isoformat(),
        "status": certification.status.value,
    }
