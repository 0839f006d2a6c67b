"""Public pages and API: the page a stamp's QR opens, manual serial entry, reports, the JSON verdict, and
what offline verifiers need (keys, trust list, revocations, the OpenAPI document)."""

from __future__ import annotations

import json
from datetime import timedelta
from importlib import resources
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from itsdangerous import BadSignature, URLSafeTimedSerializer

from traceability import clock
from traceability.db import get_session, one_write, transaction, utcnow
from traceability.errors import DomainError, ValidationError
from traceability.i18n import N_
from traceability.registry.certification_rules import effective_status
from traceability.registry.classification import get_product_set
from traceability.registry.places import current_province
from traceability.stamps.keys import keyring
from traceability.stamps.keystore import store_from_config
from traceability.stamps.models import RangeState
from traceability.stamps.signing import jwks
from traceability.verification import claims, facts, publication, scans
from traceability.verification.clones import Thresholds
from traceability.verification.commands import revocations_group, trustlist_group, verify_command
from traceability.verification.models import Channel, Scan
from traceability.verification.provinces import PROVINCES, get_province
from traceability.verification.records import verification_record
from traceability.verification.reports import ReportData, file_report
from traceability.verification.services import (
    ScanContext,
    SerialNotFound,
    Verification,
    assess,
    own_prefixes,
    verify_and_assess,
    verify_code,
    verify_serial,
)
from traceability.verification.texts import certification_status, explain, producer_type
from traceability.verification.verdicts import Verdict
from traceability.web import limiter

# cli_group=None puts `verify`, `revocations` and `trustlist` at the top of the `traceability` command.
bp = Blueprint("verification", __name__, cli_group=None)
bp.cli.add_command(verify_command)
bp.cli.add_command(revocations_group)
bp.cli.add_command(trustlist_group)


@bp.record_once
def _keep_facts(state: BlueprintSetupState) -> None:
    """Give the app's engine its cache of keys and registry facts (VERIFY_CACHE_SECONDS)."""
    facts.configure(state.app.extensions["db_engine"], float(state.app.config["VERIFY_CACHE_SECONDS"]))


SCAN_REF_MAX_AGE = 3600  # a page's province and report forms stay usable for an hour
CODE_MAX = 4096  # the API's `code`: maxLength in openapi.json (a stamp URL is under 300)
ASCII_WHITESPACE = " \t\n\x0b\x0c\r"


def _limit(name: str) -> Any:
    return lambda: current_app.config[name]


# The page and the API share one budget per client, so switching between them buys no extra look-ups.
verify_limit = limiter.shared_limit(_limit("RATELIMIT_VERIFY"), scope="verify")
serial_limit = limiter.limit(_limit("RATELIMIT_SERIAL"))
report_limit = limiter.shared_limit(_limit("RATELIMIT_REPORT"), scope="report")
# Telling one's province is cheap and common: its own budget, so it never uses up the reports'.
place_limit = limiter.shared_limit(lambda: current_app.config.get("RATELIMIT_PLACE", "10 per hour"), scope="place")
# Scratch-off codes typed: with SCRATCH_FAILURES_PER_DAY per stamp, what makes guessing hopeless (README).
claim_limit = limiter.shared_limit(_limit("RATELIMIT_CLAIM"), scope="claim")


def _thresholds() -> Thresholds:
    return Thresholds.from_config(current_app.config)


def _prefixes() -> frozenset[str]:
    return own_prefixes(current_app.config)


def _device() -> scans.Device:
    secret = current_app.config.get("SCAN_SALT_SECRET") or current_app.config["SECRET_KEY"]
    return scans.device_of(
        str(secret),
        utcnow(),
        request.remote_addr or "",
        request.user_agent.string,
        days=int(current_app.config["SCAN_SALT_DAYS"]),
    )


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="ocop-scan-ref")


def _scan_ref(scan: Scan | None) -> str | None:
    return _serializer().dumps(scan.id) if scan is not None else None


def _own_scan(ref: str | None) -> Scan | None:
    """Return the scan a signed reference names, if this device made it within the hour."""
    if not ref:
        return None
    try:
        scan_id = _serializer().loads(ref, max_age=SCAN_REF_MAX_AGE)
    except BadSignature:
        return None
    return scans.own_scan(get_session(), int(scan_id), _device())


def _page(result: Verification, code: str, *, status: int = 200, **extra: Any) -> ResponseReturnValue:
    today = clock.today()
    flags = result.outcome.flags
    product, certification, summary = result.product, result.certification, result.scan_summary
    producer = product.producer if product else None
    photo = facts.shown_photo(get_session(), product.id) if product else None  # plain values (issue 11)
    body = render_template(
        "verify.html",
        result=result,
        code=code,
        today=today,
        main=explain(flags[0], result, today, has_photo=photo is not None),
        others=[explain(flag, result, today, has_photo=photo is not None) for flag in flags[1:]],
        photo=photo,
        provinces=PROVINCES.values(),
        scan_ref=_scan_ref(result.scan),
        producer_type=producer_type,
        product_set=get_product_set(product.product_set) if product else None,
        province_now=current_province(producer.address_scheme.value, producer.province_code) if producer else None,
        first_province=get_province(summary.first_province) if summary else None,
        placed_province=get_province(summary.placed_province) if summary else None,
        claim_province=get_province(result.claim.first_province) if result.claim else None,
        claimable=result.claim is not None and result.state is RangeState.ACTIVATED and not result.by_serial,
        cert_status=certification_status(effective_status(certification, today)) if certification else None,
        **extra,
    )
    response = current_app.make_response((body, status))
    # The page carries a form token and a scan reference: never store it in a shared cache.
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/")
def index() -> ResponseReturnValue:
    return render_template("index.html")


@bp.get("/v/<token>")
@verify_limit
def stamp_page(token: str) -> ResponseReturnValue:
    today, limits = clock.today(), _thresholds()
    # The way back from the page's own form only reads: inside one_write too, so on PostgreSQL it ends
    # without a ROLLBACK, which would make psycopg drop the worker's prepared statements.
    with one_write() as session:
        seen = _own_scan(request.args.get("seen"))
        if seen is not None and seen.code_hash == scans.code_hash(token):
            # Back from this page's own form: the same look-up, not a new scan.
            result = assess(session, verify_code(session, token, today, _prefixes()), token, limits, evidence=False)
            result.scan = seen
        else:
            record = ScanContext(Channel.PAGE, _device(), utcnow())
            result = verify_and_assess(session, token, today, limits, record, _prefixes(), evidence=False)
    return _page(result, token, placed=request.args.get("placed") == "1")


@bp.get("/serial")
@serial_limit
def serial_page() -> ResponseReturnValue:
    text = request.args.get("s", "").strip()
    if not text:
        return redirect(url_for("verification.index"))
    session = get_session()
    try:
        result = verify_serial(session, text, clock.today())
    except (ValidationError, SerialNotFound) as error:
        status = error.status
        message = "format" if isinstance(error, ValidationError) else "unknown"
        return render_template("index.html", serial=text, serial_error=message), status
    with transaction():
        assess(session, result, text, _thresholds(), ScanContext(Channel.SERIAL, _device(), utcnow()), evidence=False)
    return _page(result, text)


@bp.post("/place")
@place_limit
def place() -> ResponseReturnValue:
    """Record the province a shopper chose to tell, on the scan they just made."""
    code = request.form.get("code", "")
    with transaction():
        scans.tell_province(_own_scan(request.form.get("ref")), request.form.get("province", ""))
    return redirect(url_for("verification.stamp_page", token=code, seen=request.form.get("ref"), placed=1) + "#scans")


@bp.post("/claim")
@claim_limit
def claim() -> ResponseReturnValue:
    """Check the code a shopper scratched free on a stamp, and say whether it was claimed before."""
    token = request.form.get("code", "")[:2048].strip()
    session, today = get_session(), clock.today()
    found = verify_code(session, token, today, _prefixes())
    if found.verdict is not Verdict.GENUINE or found.state is not RangeState.ACTIVATED or found.batch is None:
        raise claims.NothingToClaim(N_("this stamp has no scratch-off code"), field="scratch_code")
    assert found.sequence is not None
    try:
        with transaction():
            outcome = claims.claim(
                session,
                found.batch,
                found.sequence,
                request.form.get("scratch_code", ""),
                device=_device(),
                at=utcnow(),
                province=request.form.get("province") or None,
                max_failures=int(current_app.config["SCRATCH_FAILURES_PER_DAY"]),
            )
    except (ValidationError, claims.ClaimsExhausted) as error:
        result = assess(session, verify_code(session, token, today, _prefixes()), token, _thresholds(), evidence=False)
        return _page(result, token, status=error.status, claim_error=error.localized())
    result = assess(session, verify_code(session, token, today, _prefixes()), token, _thresholds(), evidence=False)
    status = 422 if outcome.result is claims.Result.WRONG else 200
    return _page(result, token, status=status, claim_result=outcome.result.value)


@bp.post("/report")
@report_limit
def report() -> ResponseReturnValue:
    """Store a shopper's report of a suspect product for inspectors."""
    code = request.form.get("code", "")[:2048].strip()
    by_serial = request.form.get("kind") == "serial"
    session, today = get_session(), clock.today()
    if request.form.get("website"):  # a field people never see: only robots fill it in
        return render_template("verification/report_done.html"), 201
    try:
        result = verify_serial(session, code, today) if by_serial else verify_code(session, code, today, _prefixes())
    except DomainError:
        result = None
    upload = request.files.get("photo")
    data = ReportData(
        shop_name=request.form.get("shop_name", ""),
        place=request.form.get("place", ""),
        province=request.form.get("province", ""),
        contact=request.form.get("contact", ""),
        note=request.form.get("note", ""),
        photo=upload.read() if upload and upload.filename else None,
    )
    try:
        with transaction():
            filed = file_report(
                session,
                data,
                verdict=result.verdict if result else Verdict.MALFORMED,
                code=code,
                stamp=result.stamp if result else None,
                device=_device(),
                at=utcnow(),
                photo_max_bytes=int(current_app.config["REPORT_PHOTO_MAX_BYTES"]),
            )
    except ValidationError as error:
        body = render_template(
            "verification/report_again.html",
            code=code,
            kind="serial" if by_serial else "token",
            form=data,
            error=error,
            provinces=PROVINCES.values(),
        )
        return body, error.status
    refused = filed.photo_refused.localized() if filed.photo_refused else None
    return render_template("verification/report_done.html", code=code, by_serial=by_serial, photo_refused=refused), 201


# Read by traceability.web before CSRF parses the form: a report is small text plus one photo.
report.max_content_length = lambda config: int(config["REPORT_PHOTO_MAX_BYTES"]) + 64 * 1024  # type: ignore[attr-defined]


@bp.get("/api/v1/verify")
@verify_limit
def verify_api() -> ResponseReturnValue:
    raw = request.args.get("code", "")
    # As the OpenAPI document says: 1..CODE_MAX characters, at least one that is not ASCII whitespace.
    # Only ASCII whitespace is trimmed: str.strip() would also eat "\x1c".."\x1f", which the document's
    # pattern (and JSON Schema's regex) treat as ordinary characters, and a code of them is `malformed`.
    code = raw.strip(ASCII_WHITESPACE)
    if not code:
        raise ValidationError(N_("give the stamp code as ?code=<URL or token>"), field="code")
    if len(raw) > CODE_MAX:
        raise ValidationError(
            N_("a stamp code has at most %(limit)s characters"), field="code", params={"limit": CODE_MAX}
        )
    record = ScanContext(Channel.API, _device(), utcnow())
    with one_write() as session:
        result = verify_and_assess(session, code, clock.today(), _thresholds(), record, _prefixes(), evidence=False)
        body = verification_record(code, result)
        if result.product is not None and "product" in body:
            # The approved photo is what an app shows the shopper to compare with the goods in hand.
            photo = facts.shown_photo(session, result.product.id)
            body["product"]["photo_url"] = (
                current_app.config["PUBLIC_BASE_URL"] + url_for("photos.image", filename=photo.filename)
                if photo is not None
                else None
            )
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api/v1/openapi.json")
def openapi_document() -> ResponseReturnValue:
    text = resources.files("traceability.verification").joinpath("openapi.json").read_text(encoding="utf-8")
    document = json.loads(text)
    document["servers"] = [{"url": current_app.config["PUBLIC_BASE_URL"]}]
    return jsonify(document)


@bp.get("/.well-known/jwks.json")
def published_keys() -> ResponseReturnValue:
    response = jsonify(jwks(keyring(get_session()).values()))
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/.well-known/ocop-trust-list.json")
def trust_list() -> ResponseReturnValue:
    document = publication.trust_list(
        get_session(), store_from_config(current_app.config), current_app.config["PUBLIC_BASE_URL"], utcnow()
    )
    response = jsonify(document)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/api/v1/revocations")
def revocations() -> ResponseReturnValue:
    max_age = timedelta(seconds=int(current_app.config["REVOCATIONS_MAX_AGE_SECONDS"]))
    document = publication.revocations(
        get_session(), store_from_config(current_app.config), utcnow(), clock.today(), max_age
    )
    response: Response = jsonify(document)
    response.headers["Cache-Control"] = "public, max-age=600"
    return response
