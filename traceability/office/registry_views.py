"""The registry in the browser: producers, raw-material areas, products, certifications, CSV import.

Inspectors read; administrators edit. Every edit goes through the registry's own validation.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from traceability import labels
from traceability.accounts.guards import actor, require_office, roles_required
from traceability.accounts.models import Role
from traceability.db import get_session, transaction
from traceability.errors import DomainError, ValidationError
from traceability.forms import show_error
from traceability.i18n import N_
from traceability.registry import csv_import, editing
from traceability.registry import services as registry
from traceability.registry.forms import (
    AreaForm,
    CertificationForm,
    CertificationStatusForm,
    ImportForm,
    ProducerForm,
    ProductForm,
)
from traceability.registry.models import MaterialArea
from traceability.registry.services import AreaData, CertificationData, ProducerData, ProductData
from traceability.web import number

bp = Blueprint("office_registry", __name__, url_prefix="/office/registry")


bp.before_request(require_office)

# What the page says once a record is saved, by kind of record.
SAVED = {
    "producer": N_("Producer %(code)s saved."),
    "area": N_("Raw-material area %(code)s saved."),
    "product": N_("Product %(code)s saved."),
}


def _text(value: Any) -> str:
    return (value or "").strip() if isinstance(value, str) else ""


def _optional(value: Any) -> str | None:
    return _text(value) or None


def _list(value: Any) -> list[str]:
    text = _text(value).replace("|", ";").replace(",", ";")
    return [part.strip() for part in text.split(";") if part.strip()]


def _address(form: Any) -> dict[str, Any]:
    return {
        "commune": _text(form.commune.data),
        "district": _optional(form.district.data),
        "province_code": _text(form.province_code.data),
        "province": _text(form.province.data),
        "address_scheme": _text(form.address_scheme.data),
    }


def producer_data(form: ProducerForm) -> ProducerData:
    return ProducerData(
        code=_text(form.code.data),
        name=_text(form.name.data),
        short_name=_text(form.short_name.data),
        type=_text(form.type.data),
        tax_code=_optional(form.tax_code.data),
        address=_text(form.address.data),
        address_as_of=form.address_as_of.data,
        phone=_optional(form.phone.data),
        email=_optional(form.email.data),
        **_address(form),
    )


def area_data(form: AreaForm) -> AreaData:
    return AreaData(
        code=_text(form.code.data),
        name=_text(form.name.data),
        material=_text(form.material.data),
        growing_area_code=_optional(form.growing_area_code.data),
        code_issuer=_optional(form.code_issuer.data),
        code_scope=_optional(form.code_scope.data),
        code_issued_on=form.code_issued_on.data,
        code_status=_optional(form.code_status.data),
        latitude=_optional(form.latitude.data),
        longitude=_optional(form.longitude.data),
        size_ha=_optional(form.size_ha.data),
        certifications=[c.strip() for c in _text(form.certifications.data).split(";") if c.strip()],
        producers=_list(form.producers.data),
        **_address(form),
    )


def product_data(form: ProductForm) -> ProductData:
    return ProductData(
        code=_text(form.code.data),
        name=_text(form.name.data),
        producer=_text(form.producer.data),
        product_set=_text(form.product_set.data),
        gtin=_optional(form.gtin.data),
        description=_text(form.description.data),
        areas=_list(form.areas.data),
    )


@bp.get("/")
def index() -> ResponseReturnValue:
    session = get_session()
    query = request.args.get("q", "").strip()[:100]

    def found(*texts: str | None) -> bool:
        return not query or any(query.casefold() in (text or "").casefold() for text in texts)

    areas = session.scalars(select(MaterialArea).order_by(MaterialArea.code)).all()
    return render_template(
        "office/registry.html",
        query=query,
        producers=[p for p in registry.list_producers(session) if found(p.code, p.name, p.short_name, p.province)],
        areas=[a for a in areas if found(a.code, a.name, a.material, a.growing_area_code)],
        products=[p for p in registry.list_products(session) if found(p.code, p.name, p.producer.code)],
    )


def _edit(
    kind: str,
    form: Any,
    build: Any,
    save: Any,
    existing_code: str | None,
    done: str,
) -> ResponseReturnValue:
    if form.validate_on_submit():
        try:
            with transaction() as session:
                saved = save(session, build(form), actor=actor(), existing_code=existing_code)
        except DomainError as error:
            show_error(form, error)
        else:
            flash(_(SAVED[kind], code=saved.code), "success")
            return redirect(url_for(done, code=saved.code) if done.endswith("product") else url_for(done))
    template = f"office/{kind}_form.html"
    return render_template(template, form=form, existing_code=existing_code), 422 if form.is_submitted() else 200


@bp.route("/producers/new", methods=["GET", "POST"])
@roles_required(Role.ADMINISTRATOR)
def new_producer() -> ResponseReturnValue:
    form = ProducerForm()
    return _edit("producer", form, producer_data, editing.save_producer, None, "office_registry.index")


@bp.route("/producers/<code>/edit", methods=["GET", "POST"])
@roles_required(Role.ADMINISTRATOR)
def edit_producer(code: str) -> ResponseReturnValue:
    current = editing.producer_or_404(get_session(), code)
    form = ProducerForm(obj=current)
    if not form.is_submitted():
        form.type.data, form.address_scheme.data = current.type.value, current.address_scheme.value
    return _edit("producer", form, producer_data, editing.save_producer, current.code, "office_registry.index")


@bp.route("/areas/new", methods=["GET", "POST"])
@roles_required(Role.ADMINISTRATOR)
def new_area() -> ResponseReturnValue:
    return _edit("area", AreaForm(), area_data, editing.save_area, None, "office_registry.index")


@bp.route("/areas/<code>/edit", methods=["GET", "POST"])
@roles_required(Role.ADMINISTRATOR)
def edit_area(code: str) -> ResponseReturnValue:
    current = editing.area_or_404(get_session(), code)
    form = AreaForm(obj=current)
    if not form.is_submitted():
        form.address_scheme.data = current.address_scheme.value
        form.code_scope.data = current.code_scope.value if current.code_scope else ""
        form.code_status.data = current.code_status.value if current.code_status else ""
        form.certifications.data = "; ".join(current.certifications)
        form.producers.data = "; ".join(p.code for p in current.producers)
        for name in ("latitude", "longitude", "size_ha"):
            value = getattr(current, name)
            getattr(form, name).data = "" if value is None else format(value.normalize(), "f")
    return _edit("area", form, area_data, editing.save_area, current.code, "office_registry.index")


@bp.route("/products/new", methods=["GET", "POST"])
@roles_required(Role.ADMINISTRATOR)
def new_product() -> ResponseReturnValue:
    return _edit("product", ProductForm(), product_data, editing.save_product, None, "office_registry.product")


@bp.route("/products/<code>/edit", methods=["GET", "POST"])
@roles_required(Role.ADMINISTRATOR)
def edit_product(code: str) -> ResponseReturnValue:
    current = registry.product_or_404(get_session(), code)
    form = ProductForm(obj=current)
    if not form.is_submitted():
        form.producer.data = current.producer.code
        form.areas.data = "; ".join(a.code for a in current.areas)
    return _edit("product", form, product_data, editing.save_product, current.code, "office_registry.product")


@bp.get("/products/<code>")
def product(code: str) -> ResponseReturnValue:
    return _render_product(code)


def _render_product(code: str, status: int = 200, **forms: Any) -> ResponseReturnValue:
    found = registry.product_or_404(get_session(), code)
    context = {"certification_form": CertificationForm(), "status_form": CertificationStatusForm(), **forms}
    return render_template("office/product.html", product=found, **context), status


@bp.post("/products/<code>/certifications")
@roles_required(Role.ADMINISTRATOR)
def add_certification(code: str) -> ResponseReturnValue:
    form = CertificationForm()
    if form.validate_on_submit():
        try:
            with transaction() as session:
                found = registry.product_or_404(session, code)
                data = CertificationData(
                    stars=form.stars.data,
                    score=_text(form.score.data),
                    decision_number=_text(form.decision_number.data),
                    decision_date=form.decision_date.data,
                    authority=_text(form.authority.data),
                    authority_level=_text(form.authority_level.data),
                    application_type=_text(form.application_type.data),
                )
                editing.add_certification(session, found, data, actor=actor())
        except DomainError as error:
            show_error(form, error)
        else:
            recorded = _(
                "Certification decision %(number)s recorded for %(code)s.", number=data.decision_number, code=code
            )
            flash(recorded, "success")
            return redirect(url_for("office_registry.product", code=code))
    return _render_product(code, 422, certification_form=form)


@bp.post("/certifications/<int:certification_id>/status")
@roles_required(Role.ADMINISTRATOR)
def certification_status(certification_id: int) -> ResponseReturnValue:
    form = CertificationStatusForm()
    certification = editing.certification_or_404(get_session(), certification_id)
    code, number_of_decision = certification.product.code, certification.decision_number
    if form.validate_on_submit():
        try:
            with transaction() as session:
                editing.set_certification_status(
                    session, certification, _text(form.status.data), _text(form.reason.data), actor=actor()
                )
        except DomainError as error:
            show_error(form, error)
        else:
            flash(_("The status of certification %(number)s changed.", number=number_of_decision), "success")
            return redirect(url_for("office_registry.product", code=code))
    return _render_product(code, 422, status_form=form)


@bp.route("/import", methods=["GET", "POST"])
@roles_required(Role.ADMINISTRATOR)
def import_csv() -> ResponseReturnValue:
    form = ImportForm()
    result = errors = None
    if form.validate_on_submit():
        limit = int(current_app.config["REGISTRY_IMPORT_MAX_BYTES"])
        raw = form.file.data.read(limit + 1)
        session = get_session()
        try:
            if len(raw) > limit:
                raise ValidationError(
                    N_("The file is larger than %(limit)s bytes: split it."),
                    field="file",
                    params={"limit": number(limit)},
                )
            result = csv_import.import_csv(session, form.kind.data or "", csv_import.decode(raw), actor=actor())
            session.commit()
        except csv_import.ImportRejected as rejected:
            session.rollback()
            errors = rejected.errors
            form.form_errors.append(rejected.localized())
        except DomainError as error:
            session.rollback()
            show_error(form, error)
    status = 422 if form.is_submitted() and result is None else 200
    return render_template(
        "office/import.html",
        form=form,
        result=result,
        errors=errors,
        kinds=csv_import.KINDS,
        kind_name=labels.import_kind,
    ), status
