"""A report photo that cannot be read is refused, never a 500, and the shopper's report is kept without it."""

from __future__ import annotations

import io
import random
import struct
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from traceability.errors import ValidationError
from traceability.verification.models import Report
from traceability.verification.reports import clean_photo

# Found by the fuzzer below: a PNG whose chunk names were overwritten (Pillow raised SyntaxError: 500).
BROKEN_CHUNK_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000280000001e0802000000d1bfcb8a0000002c49444154789cedcd3101000004"
    "00309cfa87124b059f672bb09ceef8502fabd39a4468bbf35144582c168bc562b1582c168b4f16e6e30118f6b6418e000000"
    "0049454e44ae426082"
)
BROKEN_PALETTE_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000280000001e01030000006413ce9e00000003504c5445000000a77a3dda0000"
    "001249444154789c63fccfc0c0c0c0c49f1b98c4b85f30944800c819013ba68dddc70000000049454e44ae426082"
)


def encoded(fmt: str, mode: str = "RGB", size: tuple[int, int] = (40, 30), **options: Any) -> bytes:
    image = Image.new(mode, size, 3 if mode == "P" else (200, 10, 10))
    output = io.BytesIO()
    image.save(output, format=fmt, **options)
    return output.getvalue()


def gif_frame_outside() -> bytes:
    """A GIF whose only frame lies outside its 10x10 screen."""
    gif = bytearray(encoded("GIF", "P", (10, 10)))
    descriptor = gif.index(b",")
    struct.pack_into("<HH", gif, descriptor + 1, 500, 500)
    return bytes(gif)


def huge_dimensions_png() -> bytes:
    """A PNG claiming 100,000 x 100,000 pixels (a decompression bomb's header)."""
    png = bytearray(encoded("PNG"))
    struct.pack_into(">II", png, 16, 100_000, 100_000)
    return bytes(png)


PNG = encoded("PNG")
REGRESSIONS = {
    "truncated png": PNG[: len(PNG) // 2],
    "png header only": PNG[:33],
    "broken chunk png": BROKEN_CHUNK_PNG,
    "broken palette png": BROKEN_PALETTE_PNG,
    "gif frame outside": gif_frame_outside(),
    "truncated gif": encoded("GIF", "P")[:30],
    "huge png": huge_dimensions_png(),
    "truncated jpeg": encoded("JPEG")[:200],
    "not an image": b"GIF89a nonsense",
    "pdf": b"%PDF-1.7\n",
}


@pytest.mark.parametrize("raw", REGRESSIONS.values(), ids=REGRESSIONS.keys())
def test_regression_images_are_cleaned_or_refused(raw: bytes) -> None:
    try:
        cleaned = clean_photo(raw, 5_000_000)
    except ValidationError as error:
        refused_field = error.details["field"]
        assert refused_field == "photo"
    else:
        assert cleaned.startswith(b"\xff\xd8")


def mutate(rng: random.Random, data: bytes) -> bytes:
    mutated = bytearray(data)
    operation = rng.randrange(4)
    if operation == 0:
        return bytes(mutated[: rng.randrange(1, len(mutated))])
    position = rng.randrange(len(mutated))
    if operation == 1:
        for _ in range(rng.randrange(1, 6)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
    elif operation == 2:
        mutated[position:position] = rng.randbytes(rng.randrange(1, 20))
    else:
        del mutated[position : position + rng.randrange(1, 20)]
    return bytes(mutated)


def test_thousands_of_mutated_images_never_raise_anything_else() -> None:
    """Seeded and bounded (about half a second): every outcome is a JPEG or the photo's ValidationError."""
    frames = [Image.new("P", (20, 20), index) for index in range(3)]
    animated = io.BytesIO()
    frames[0].save(animated, format="GIF", save_all=True, append_images=frames[1:])
    seeds = [
        encoded("PNG"),
        encoded("PNG", "P"),
        encoded("PNG", "RGBA"),
        encoded("GIF", "P"),
        encoded("JPEG"),
        encoded("WEBP"),
        animated.getvalue(),
        gif_frame_outside(),
    ]
    rng = random.Random(20261201)
    outcomes = {"cleaned": 0, "refused": 0}
    for _ in range(3000):
        raw = mutate(rng, rng.choice(seeds))
        try:
            clean_photo(raw, 5_000_000)
        except ValidationError:
            outcomes["refused"] += 1
        else:
            outcomes["cleaned"] += 1
    assert outcomes["refused"] > 100 and outcomes["cleaned"] > 100


def test_a_refused_photo_keeps_the_report(client: Any, issued: Any, session: Any) -> None:
    page = client.get("/v/" + issued.url(15).rsplit("/v/", 1)[1], headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True).split('id="report"')[1]
    import re

    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', html))
    data = {
        **fields,
        "shop_name": "Tạp hóa Minh Anh",
        "place": "Chợ Phan Rang",
        "note": "the label looks reprinted",
        "photo": (io.BytesIO(gif_frame_outside()[:40]), "label.gif"),
    }
    response = client.post("/report?lang=en", data=data, content_type="multipart/form-data")
    assert response.status_code == 201
    assert "kept without its photo" in response.get_data(as_text=True)
    report = session.scalars(select(Report)).one()
    assert (report.shop_name, report.note, report.photo) == ("Tạp hóa Minh Anh", "the label looks reprinted", None)
