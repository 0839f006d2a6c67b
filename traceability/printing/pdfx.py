"""What makes a sheet PDF/X-4: the output intent with its ICC profile, XMP metadata, the Info keys, the dates.

The output intent is Ghostscript's CMYK output profile (Debian libgs-common, a dependency of ghostscript):
sheets are greyscale only (DeviceGray, which a CMYK press prints on the black plate), and PDF/X-4 asks for
an output-class ("prtr") profile, which no packaged grey profile is. The document ID is derived from the
file's content, so a reprint stays byte-identical.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from xml.sax.saxutils import escape

from traceability.errors import ConfigurationError
from traceability.i18n import N_
from traceability.printing.pdfwriter import pdf_date, pdf_text_string, stream_body

PDFX_VERSION = "PDF/X-4"
PROFILE_PATHS = (
    "/usr/share/color/icc/ghostscript/default_cmyk.icc",  # Debian libgs-common ("Artifex CMYK SWOP Profile")
    "/usr/share/ghostscript/iccprofiles/default_cmyk.icc",  # Ghostscript built from source
)
# Used when a file has no date of its own (synthetic runs): PDF/X requires the dates, and the bytes stay fixed.
FALLBACK_DATE = datetime(2000, 1, 1, tzinfo=UTC)
PACKET_ID = "W5M0MpCehiHzreSzNTczkc9d"  # the fixed id of every XMP packet wrapper


class OutputProfileNotFound(ConfigurationError):
    code = "output_profile_not_found"


def find_output_profile(paths: Sequence[str] = PROFILE_PATHS) -> str:
    """Return the first ICC output profile that exists, or raise OutputProfileNotFound."""
    for path in paths:
        if os.path.isfile(path):
            return path
    raise OutputProfileNotFound(
        N_("no ICC output profile for PDF/X sheets at %(paths)s; install it (Debian: libgs-common)"),
        params={"paths": ", ".join(paths)},
    )


@lru_cache(maxsize=4)
def _profile(path: str) -> tuple[bytes, int, str]:
    """Return a profile's bytes, its number of colour components and its description."""
    with open(path, "rb") as handle:
        data = handle.read()
    space = data[16:20]
    components = {b"GRAY": 1, b"RGB ": 3, b"CMYK": 4}.get(space)
    if data[36:40] != b"acsp" or components is None or data[12:16] != b"prtr":
        raise OutputProfileNotFound(
            N_("%(path)s is not an ICC output profile of a grey, RGB or CMYK printer"), params={"path": path}
        )
    return data, components, _description(data) or os.path.basename(path)


def _description(data: bytes) -> str:
    """Return the text of a version-2 profile's 'desc' tag, or '' if there is none."""
    count = int.from_bytes(data[128:132], "big")
    for index in range(count):
        entry = data[132 + 12 * index : 144 + 12 * index]
        if entry[:4] == b"desc":
            offset = int.from_bytes(entry[4:8], "big")
            if data[offset : offset + 4] == b"desc":
                length = int.from_bytes(data[offset + 8 : offset + 12], "big")
                return data[offset + 12 : offset + 12 + length].split(b"\0", 1)[0].decode("ascii", "replace")
    return ""


def output_intent_objects(intent: int, profile_object: int, path: str) -> list[tuple[int, bytes]]:
    """Return the OutputIntent dictionary and the ICC profile stream it embeds."""
    data, components, description = _profile(path)
    info = pdf_text_string(description)
    body = (
        f"<< /Type /OutputIntent /S /GTS_PDFX /OutputConditionIdentifier (Custom) /OutputCondition {info} "
        f"/Info {info} /RegistryName (http://www.color.org) /DestOutputProfile {profile_object} 0 R >>"
    )
    return [
        (intent, body.encode("ascii")),
        (profile_object, stream_body(f"/N {components}", data, compress=True)),
    ]


@dataclass(frozen=True)
class DocumentInfo:
    """What the Info dictionary and the XMP metadata both say, so that they agree as PDF/X requires."""

    title: str
    producer: str
    created: datetime

    @property
    def moment(self) -> datetime:
        """Return the creation date with a zone (naive dates from the database are UTC)."""
        created = self.created
        return created if created.tzinfo is not None else created.replace(tzinfo=UTC)

    def info_dictionary(self) -> bytes:
        """Return the Info dictionary: title, producer, dates, /Trapped and the PDF/X version."""
        date = pdf_date(self.moment)
        entries = [
            f"/Title {pdf_text_string(self.title)}",
            f"/Producer {pdf_text_string(self.producer)}",
            f"/Creator {pdf_text_string(self.producer)}",
            f"/CreationDate {date}",
            f"/ModDate {date}",
            "/Trapped /False",
            f"/GTS_PDFXVersion ({PDFX_VERSION})",
        ]
        return ("<< " + " ".join(entries) + " >>").encode("ascii")

    def xmp(self, document_id: str) -> bytes:
        """Return the XMP packet (UTF-8) naming the PDF/X version, the dates, /Trapped and the document ID."""
        when = self.moment.isoformat(timespec="seconds")
        ident = f"uuid:{uuid.UUID(hex=document_id)}"
        text = f"""<?xpacket begin="\ufeff" id="{PACKET_ID}"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:pdf="http://ns.adobe.com/pdf/1.3/"
 xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/" xmlns:pdfxid="http://www.npes.org/pdfx/ns/id/">
<dc:format>application/pdf</dc:format>
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(self.title)}</rdf:li></rdf:Alt></dc:title>
<xmp:CreateDate>{when}</xmp:CreateDate>
<xmp:ModifyDate>{when}</xmp:ModifyDate>
<xmp:MetadataDate>{when}</xmp:MetadataDate>
<xmp:CreatorTool>{escape(self.producer)}</xmp:CreatorTool>
<pdf:Producer>{escape(self.producer)}</pdf:Producer>
<pdf:Trapped>False</pdf:Trapped>
<xmpMM:DocumentID>{ident}</xmpMM:DocumentID>
<xmpMM:InstanceID>{ident}</xmpMM:InstanceID>
<xmpMM:VersionID>1</xmpMM:VersionID>
<xmpMM:RenditionClass>default</xmpMM:RenditionClass>
<pdfxid:GTS_PDFXVersion>{PDFX_VERSION}</pdfxid:GTS_PDFXVersion>
</rdf:Description>
</rdf:RDF>
</x:xmpmeta>
<?xpacket end="r"?>"""
        return stream_body("/Type /Metadata /Subtype /XML", text.encode("utf-8"))
