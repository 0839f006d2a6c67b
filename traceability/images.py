"""Pictures people send us (report photos, product photos): decoded safely, re-encoded without metadata.

An uploaded file is never stored or served as sent: it is decoded by Pillow, limited to the formats phones
make, checked for size and pixel count before any pixel is decoded, turned the right way up, and written
out again as a new JPEG or WebP. What the camera put in it (GPS position, serial number, ICC profile,
comments, a script hidden in a chunk) stays behind.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageOps, UnidentifiedImageError

from traceability.errors import ValidationError
from traceability.i18n import N_

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")  # what phones and screenshots make; no parser for the rest
MAX_PIXELS = 25_000_000  # refuse decompression bombs before decoding (a 24 MP phone photo fits)
SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")
OutputFormat = Literal["JPEG", "WEBP"]
MEDIA_TYPES: dict[str, str] = {"JPEG": "image/jpeg", "WEBP": "image/webp"}
EXTENSIONS: dict[str, str] = {"image/jpeg": "jpg", "image/webp": "webp"}


@dataclass(frozen=True)
class Picture:
    """One re-encoded picture: its bytes, media type and size in pixels."""

    data: bytes
    media_type: str
    width: int
    height: int


def megabytes(size: int) -> str:
    """Return a size in megabytes as people write it: 5, 10, 0.3."""
    return f"{size / 2**20:.1f}".removesuffix(".0")


def _refuse(message: str, field: str, **params: object) -> ValidationError:
    return ValidationError(message, field=field, params=params or None)


def reencode(
    raw: bytes,
    edges: Sequence[int],
    *,
    max_bytes: int,
    output: OutputFormat = "JPEG",
    quality: int = 80,
    min_edge: int = 1,
    field: str = "photo",
) -> list[Picture]:
    """Decode raw once and return it re-encoded at each long-side limit in edges (largest first).

    Raise ValidationError (on `field`) for a file too large, of another format, with too many or too few
    pixels, or that does not decode: never anything else, whatever the bytes.
    """
    if len(raw) > max_bytes:
        raise _refuse(N_("the photo is larger than %(megabytes)s MB"), field, megabytes=megabytes(max_bytes))
    largest = max(edges)
    try:
        with warnings.catch_warnings():
            # Pillow only warns below twice its own limit; a warning must refuse here, not pass silently.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw), formats=ACCEPTED_FORMATS) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise _refuse(N_("the photo has too many pixels"), field)
                if max(image.size) < min_edge:
                    raise _refuse(
                        N_("the photo is too small: at least %(pixels)s pixels on its long side"),
                        field,
                        pixels=min_edge,
                    )
                # Shrink while decoding (JPEG's DCT scaling, then reduce()), so a large photo never sits in
                # memory at full size, let alone twice.
                image.draft("RGB", (largest, largest))
                image.thumbnail((largest, largest), reducing_gap=2.0)
                # A phone stores a photo sideways with an orientation tag: apply it, as the tag goes.
                upright = ImageOps.exif_transpose(image)
                picture = _flatten(upright)
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise _refuse(N_("the photo has too many pixels"), field) from error
    except UnidentifiedImageError as error:
        if _looks_accepted(raw):  # a broken photo of the right kind: say so, not "wrong format"
            raise _refuse(N_("this file is not a photo we can read"), field) from error
        raise _refuse(N_("send the photo as JPEG, PNG or WebP"), field) from error
    except Exception as error:
        # Pillow's decoders answer hostile bytes with OSError, SyntaxError, ValueError, EOFError, struct.error,
        # IndexError...; whichever it is, the file is not a photo we can read.
        raise _refuse(N_("this file is not a photo we can read"), field) from error
    return [_encode(picture, edge, output, quality) for edge in sorted(edges, reverse=True)]


def _looks_accepted(raw: bytes) -> bool:
    """Return whether raw starts as a JPEG, PNG, GIF or WebP file does."""
    return raw.startswith(SIGNATURES) or (raw[:4] == b"RIFF" and raw[8:12] == b"WEBP")


def _flatten(image: Image.Image) -> Image.Image:
    """Return the image as plain RGB; transparent parts become white, as a page would show them."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _encode(image: Image.Image, edge: int, output: OutputFormat, quality: int) -> Picture:
    sized = image
    if max(image.size) > edge:
        sized = image.copy()
        sized.thumbnail((edge, edge))
    buffer = io.BytesIO()
    # A new image written from pixels only: no exif=, icc_profile= or comment is passed on.
    if output == "WEBP":
        sized.save(buffer, format="WEBP", quality=quality, method=4)
    else:
        sized.save(buffer, format="JPEG", quality=quality, optimize=True)
    return Picture(buffer.getvalue(), MEDIA_TYPES[output], sized.width, sized.height)
