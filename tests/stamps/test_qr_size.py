"""A real stamp URL fits QR version 6 at level M and decodes back exactly with a real decoder."""

from __future__ import annotations

import qrcode
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from qrcode.util import MODE_8BIT_BYTE, MODE_NUMBER, QRData

from traceability.stamps import codec
from traceability.stamps.signing import sign_body


def qr_for(prefix: str, digits: str, error_correction: int) -> qrcode.QRCode:  # type: ignore[type-arg]
    code = qrcode.QRCode(error_correction=error_correction, border=4, box_size=4)
    code.add_data(QRData((prefix + codec.URL_PATH).encode(), mode=MODE_8BIT_BYTE))
    code.add_data(QRData(digits, mode=MODE_NUMBER))
    code.make(fit=True)
    return code


def test_stamp_fits_version_6_at_level_m_and_decodes_back() -> None:
    key = Ed25519PrivateKey.generate()
    body = codec.StampBody(
        key_id=65535,
        batch_id=2**32 - 1,
        sequence=2**24 - 1,
        nonce=255,
        product_ref=2**24 - 1,
        stars=5,
        valid_until_month=65535,
    )
    digits = sign_body(key, body)
    for prefix in ("https://ocop.gov.vn", "http://127.0.0.1:5000", "https://tem.ocop.vn"):
        assert len(prefix + codec.URL_PATH) <= codec.MAX_PREFIX_FOR_VERSION_6
        code = qr_for(prefix, digits, qrcode.constants.ERROR_CORRECT_M)
        assert code.version <= 6, (prefix, code.version)
        image = code.make_image().get_image().convert("L")
        decoded = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
        assert [d.text for d in decoded] == [codec.stamp_url(prefix, digits)]
    assert qr_for("https://ocop.gov.vn", digits, qrcode.constants.ERROR_CORRECT_Q).version <= 8
    # One character more than the limit and the symbol grows: why production refuses longer base URLs.
    assert qr_for("https://ocop.gov.vn.xy", digits, qrcode.constants.ERROR_CORRECT_M).version == 7
