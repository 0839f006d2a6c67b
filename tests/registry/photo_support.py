"""Pictures for the product-photo tests: camera-like JPEGs with metadata, hostile and broken files."""

from __future__ import annotations

import io
import random
import struct
import zlib
from typing import Any

from PIL import Image

GPS_IFD = 0x8825
ORIENTATION, MAKE, MODEL, SERIAL = 0x0112, 0x010F, 0x0110, 0xA431


def camera_jpeg(size: tuple[int, int] = (1200, 900), *, orientation: int = 1, colour: Any = (180, 40, 40)) -> bytes:
    """Return a JPEG as a phone writes one: EXIF with camera, serial, GPS position and orientation, an ICC profile."""
    image = Image.new("RGB", size, colour)
    image.paste((20, 120, 20), (0, 0, size[0] // 4, size[1] // 4))  # a green corner: shows which way is up
    exif = Image.Exif()
    exif[MAKE], exif[MODEL], exif[ORIENTATION] = "PhoneCo", "Model X", orientation
    exif.get_ifd(0x8769)[SERIAL] = "SN-123456789"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (10.0, 46.0, 12.0), 3: "E", 4: (106.0, 40.0, 5.0)})
    output = io.BytesIO()
    image.save(output, format="JPEG", exif=exif.tobytes(), icc_profile=b"\0" * 128, comment=b"secret comment")
    return output.getvalue()


def encoded(fmt: str, size: tuple[int, int] = (800, 600), mode: str = "RGB") -> bytes:
    image = Image.new(mode, size, 3 if mode == "P" else (30, 60, 200))
    output = io.BytesIO()
    image.save(output, format=fmt)
    return output.getvalue()


def noise_png(size: tuple[int, int]) -> bytes:
    """Return a PNG of random pixels: it does not compress, so its file size follows its pixel count."""
    rng = random.Random(11)
    image = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    output = io.BytesIO()
    image.save(output, format="PNG")
    return output.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """Return a small PNG whose header (with a correct checksum) claims width x height pixels."""
    png = bytearray(encoded("PNG", (40, 30)))
    struct.pack_into(">II", png, 16, width, height)
    struct.pack_into(">I", png, 29, zlib.crc32(bytes(png[12:29])))
    return bytes(png)


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>'
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
GIF_WITH_HTML = encoded("GIF", (400, 300), "P") + b"<script>alert(1)</script>"


def metadata_of(data: bytes) -> dict[str, Any]:
    """Return what a decoder finds in a picture besides pixels: EXIF tags and info entries."""
    with Image.open(io.BytesIO(data)) as image:
        info = {key: value for key, value in image.info.items() if key not in ("loop", "background", "duration")}
        return {"exif": dict(image.getexif()), "info": info, "format": image.format, "size": image.size}
