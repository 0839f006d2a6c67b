"""Tree heads as C2SP tlog-checkpoint signed notes with Ed25519 signatures (c2sp.org/signed-note).

Pure: keys and text in, text and answers out. Byte for byte what golang.org/x/mod/sumdb/note writes and reads:

    <origin>\\n<tree size>\\n<base64 root hash>\\n[<extension line>\\n ...]
    \\n
    — <key name> <base64(key hash[4] ‖ Ed25519 signature[64])>\\n      (em dash U+2014, then a space)

The key hash is the first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ 32-byte public key); the verifier key
text is `<name>+<8 hex digits of the key hash>+<base64(0x01 ‖ public key)>`. Signatures by unknown keys are
ignored, as the spec requires; a note needs at least one valid signature by a known key, and any signature by a
known key that fails to verify refuses the whole note.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from hashlib import sha256

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from traceability.errors import ValidationError
from traceability.i18n import N_
from traceability.ledger.merkle import HASH_SIZE, MAX_TREE_SIZE

ALG_ED25519 = 1  # signature type byte of c2sp.org/signed-note
SIGNATURE_PREFIX = "\u2014 "  # em dash and space begin every signature line
MAX_SIGNATURES = 100  # as Go's note.Open; the spec asks verifiers to accept at least 16
MAX_NOTE_BYTES = 1 << 20  # a checkpoint is a few hundred bytes; refuse before doing work on a huge input
# Unicode White_Space (PropList.txt), which Go's unicode.IsSpace also tests: no key name may contain one.
_WHITE_SPACE = frozenset(
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_HEX8 = re.compile(r"[0-9a-fA-F]{8}")


class NoteError(ValidationError):
    """A signed note or checkpoint that cannot be trusted as given."""

    code = "note_invalid"


class MalformedNote(NoteError):
    """Text that is not a well-formed signed note."""


class NoteSignatureInvalid(NoteError):
    """A signature by a known key that does not verify: the whole note is refused."""

    code = "note_signature_invalid"


class NoteUnverified(NoteError):
    """A well-formed note that no known key signed."""

    code = "note_unverified"


class MalformedVerifierKey(NoteError):
    """A verifier key text that is not `<name>+<hash>+<base64 key>` for an Ed25519 key."""


class MalformedCheckpoint(NoteError):
    """A note whose text is not a tlog checkpoint, or not the log the caller expected."""


@dataclass(frozen=True, slots=True)
class VerifierKey:
    """A note verifier: the key's name, its 32-bit key hash and the raw 32-byte Ed25519 public key."""

    name: str
    key_hash: int
    public_bytes: bytes

    @property
    def text(self) -> str:
        """Return the verifier key as published: `<name>+<hash>+<base64(0x01 ‖ key)>`."""
        encoded = base64.b64encode(bytes([ALG_ED25519]) + self.public_bytes).decode("ascii")
        return f"{self.name}+{self.key_hash:08x}+{encoded}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Say whether signature is this key's Ed25519 signature of message."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public_bytes).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line: the key's name and hash, and the signature bytes after the hash."""

    name: str
    key_hash: int
    signature: bytes


@dataclass(frozen=True, slots=True)
class SignedNote:
    """An opened note: its text (ending in a newline) and its signatures, verified or by unknown keys."""

    text: str
    signatures: tuple[NoteSignature, ...]
    unverified: tuple[NoteSignature, ...]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A tree head: the log's origin, its size and the RFC 6962 root hash, plus opaque extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        """Return the checkpoint as note text (each line ending in a newline)."""
        return format_checkpoint(self)


def is_valid_name(name: str) -> bool:
    """Say whether name can name a key: non-empty, no Unicode space, no plus sign, no control character."""
    return (
        isinstance(name, str)
        and bool(name)
        and "+" not in name
        and not any(ch in _WHITE_SPACE or ord(ch) < 0x20 or 0xD800 <= ord(ch) <= 0xDFFF for ch in name)
    )


def public_bytes(public_key: Ed25519PublicKey | bytes) -> bytes:
    """Return the 32 raw bytes of an Ed25519 public key given as a key object or raw bytes."""
    raw = public_key if isinstance(public_key, bytes) else public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    if len(raw) != 32:
        raise MalformedVerifierKey(N_("an Ed25519 public key is 32 bytes, not %(count)s"), params={"count": len(raw)})
    return raw


def key_hash(name: str, public_key: Ed25519PublicKey | bytes) -> int:
    """Return the key hash: the first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key), big-endian."""
    digest = sha256(name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + public_bytes(public_key)).digest()
    return int.from_bytes(digest[:4], "big")


def verifier(name: str, public_key: Ed25519PublicKey | bytes) -> VerifierKey:
    """Return the note verifier for a named Ed25519 public key."""
    if not is_valid_name(name):
        raise MalformedVerifierKey(
            N_("%(name)s cannot name a key: a key name is not empty and has no spaces or plus signs"),
            params={"name": name},
        )
    raw = public_bytes(public_key)
    return VerifierKey(name=name, key_hash=key_hash(name, raw), public_bytes=raw)


def verifier_key(name: str, public_key: Ed25519PublicKey | bytes) -> str:
    """Return the verifier key text `<name>+<hash>+<base64(0x01 ‖ public key)>` to publish."""
    return verifier(name, public_key).text


def parse_verifier_key(text: str) -> VerifierKey:
    """Parse a verifier key text as Go's note.NewVerifier does; raise MalformedVerifierKey if it is not one."""
    if not isinstance(text, str):
        raise MalformedVerifierKey(N_("a verifier key is text"))
    name, _, rest = text.partition("+")
    hash_text, _, key_text = rest.partition("+")
    try:
        raw = base64.b64decode(key_text, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if not is_valid_name(name) or not _HEX8.fullmatch(hash_text) or not raw or _b64(raw) != key_text:
        raise MalformedVerifierKey(N_("this is not a verifier key (expected name+hash+base64 key)"))
    if raw[0] != ALG_ED25519 or len(raw) != 33:
        raise MalformedVerifierKey(N_("the verifier key is not an Ed25519 key (type 0x01, 32 bytes)"))
    key = verifier(name, raw[1:])
    if key.key_hash != int(hash_text, 16):
        raise MalformedVerifierKey(N_("the verifier key's hash does not match its name and key"))
    return key


def sign_note(private_key: Ed25519PrivateKey, name: str, text: str) -> str:
    """Return text signed by a key: the text, a blank line and one signature line."""
    if not is_valid_name(name):
        raise MalformedVerifierKey(
            N_("%(name)s cannot name a key: a key name is not empty and has no spaces or plus signs"),
            params={"name": name},
        )
    _check_note_text(text)
    if not text.endswith("\n"):
        raise MalformedNote(N_("a note's text must end with a newline"))
    signature = private_key.sign(text.encode("utf-8"))
    return f"{text}\n{_signature_line(name, key_hash(name, private_key.public_key()), signature)}"


def open_note(note: str | bytes, known: Iterable[VerifierKey]) -> SignedNote:
    """Parse a signed note and check its signatures against the known keys (c2sp.org/signed-note)."""
    keys = _key_map(known)
    message = _note_text(note)
    split = message.rfind("\n\n")
    if split < 0:
        raise MalformedNote(N_("the note has no blank line before its signatures"))
    text, block = message[: split + 1], message[split + 2 :]
    if not block.endswith("\n"):
        raise MalformedNote(N_("the note's last signature line does not end with a newline"))
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNote(N_("the note has more than %(max)s signatures"), params={"max": MAX_SIGNATURES})
    signed, unknown = [], []
    seen: set[tuple[str, int, bytes]] = set()
    for line in lines:
        found = _parse_signature_line(line)
        if (found.name, found.key_hash, found.signature) in seen:
            continue
        seen.add((found.name, found.key_hash, found.signature))
        key = keys.get((found.name, found.key_hash))
        if key is None:
            unknown.append(found)  # the spec: signatures by unknown keys are ignored
        elif key.verify(text.encode("utf-8"), found.signature):
            signed.append(found)
        else:
            raise NoteSignatureInvalid(
                N_("the signature by key %(name)s+%(hash)s does not verify"),
                params={"name": found.name, "hash": f"{found.key_hash:08x}"},
            )
    if not signed:
        raise NoteUnverified(N_("the note carries no valid signature by a known key"))
    return SignedNote(text=text, signatures=tuple(signed), unverified=tuple(unknown))


def format_checkpoint(checkpoint: Checkpoint) -> str:
    """Return the checkpoint body: origin, decimal size, base64 root hash, extension lines, each with a newline."""
    _check_checkpoint(checkpoint)
    lines = [checkpoint.origin, str(checkpoint.size), _b64(checkpoint.root_hash), *checkpoint.extensions]
    return "".join(f"{line}\n" for line in lines)


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint body strictly (c2sp.org/tlog-checkpoint); raise MalformedCheckpoint otherwise."""
    _check_note_text(text)
    if not text.endswith("\n"):
        raise MalformedCheckpoint(N_("a checkpoint's last line must end with a newline"))
    lines = text[:-1].split("\n")
    if len(lines) < 3 or any(not line for line in lines):
        raise MalformedCheckpoint(N_("a checkpoint is at least three non-empty lines: origin, size and root hash"))
    origin, size_text, root_text, *extensions = lines
    if not _DECIMAL.fullmatch(size_text) or int(size_text) > MAX_TREE_SIZE:
        raise MalformedCheckpoint(N_("the checkpoint's tree size is not a decimal number without leading zeros"))
    try:
        root = base64.b64decode(root_text, validate=True)
    except (binascii.Error, ValueError):
        root = b""
    if len(root) != HASH_SIZE or _b64(root) != root_text:
        raise MalformedCheckpoint(N_("the checkpoint's root hash is not the base64 of 32 bytes"))
    return Checkpoint(origin=origin, size=int(size_text), root_hash=root, extensions=tuple(extensions))


def sign_checkpoint(
    private_key: Ed25519PrivateKey,
    origin: str,
    size: int,
    root: bytes,
    *,
    name: str | None = None,
    extensions: Sequence[str] = (),
) -> str:
    """Return the signed checkpoint note; the key is named after the origin unless `name` says otherwise."""
    body = format_checkpoint(Checkpoint(origin=origin, size=size, root_hash=root, extensions=tuple(extensions)))
    return sign_note(private_key, origin if name is None else name, body)


def open_checkpoint(note: str | bytes, known: Iterable[VerifierKey], *, origin: str | None = None) -> Checkpoint:
    """Verify a signed checkpoint and return it; with `origin`, refuse a checkpoint of any other log."""
    checkpoint = parse_checkpoint(open_note(note, known).text)
    if origin is not None and checkpoint.origin != origin:
        raise MalformedCheckpoint(
            N_("the checkpoint is for the log %(origin)s, not %(expected)s"),
            params={"origin": checkpoint.origin, "expected": origin},
        )
    return checkpoint


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _signature_line(name: str, hash_value: int, signature: bytes) -> str:
    return f"{SIGNATURE_PREFIX}{name} {_b64(hash_value.to_bytes(4, 'big') + signature)}\n"


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(SIGNATURE_PREFIX):
        raise MalformedNote(N_("a signature line must begin with an em dash and a space"))
    name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    # Stricter than Go in one respect: only the canonical base64 of the bytes is accepted, so a signature
    # line has one spelling.
    if not is_valid_name(name) or len(raw) < 5 or _b64(raw) != encoded:
        raise MalformedNote(N_("a signature line is not an em dash, a key name and a base64 signature"))
    return NoteSignature(name=name, key_hash=int.from_bytes(raw[:4], "big"), signature=raw[4:])


def _key_map(known: Iterable[VerifierKey]) -> dict[tuple[str, int], VerifierKey]:
    keys: dict[tuple[str, int], VerifierKey] = {}
    for key in known:
        other = keys.setdefault((key.name, key.key_hash), key)
        if other.public_bytes != key.public_bytes:
            # Two keys with one name and hash: someone chose a colliding key; trust neither.
            raise MalformedVerifierKey(
                N_("two verifier keys share the name %(name)s and hash %(hash)s"),
                params={"name": key.name, "hash": f"{key.key_hash:08x}"},
            )
    return keys


def _note_text(note: str | bytes) -> str:
    if isinstance(note, bytes | bytearray):
        if len(note) > MAX_NOTE_BYTES:
            raise MalformedNote(N_("the note is longer than %(max)s bytes"), params={"max": MAX_NOTE_BYTES})
        try:
            note = bytes(note).decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedNote(N_("a signed note must be valid UTF-8")) from None
    if not isinstance(note, str):
        raise MalformedNote(N_("a signed note is text"))
    if len(note) > MAX_NOTE_BYTES:
        raise MalformedNote(N_("the note is longer than %(max)s bytes"), params={"max": MAX_NOTE_BYTES})
    _check_note_text(note)
    return note


def _check_note_text(text: str) -> None:
    if not isinstance(text, str):
        raise MalformedNote(N_("a signed note is text"))
    for ch in text:
        code = ord(ch)
        if code < 0x20 and ch != "\n":
            raise MalformedNote(N_("a signed note may contain no control character other than newline"))
        if 0xD800 <= code <= 0xDFFF:
            raise MalformedNote(N_("a signed note must be valid UTF-8"))


def _check_checkpoint(checkpoint: Checkpoint) -> None:
    lines = (checkpoint.origin, *checkpoint.extensions)
    if any(not isinstance(line, str) or not line or "\n" in line for line in lines):
        raise MalformedCheckpoint(N_("a checkpoint's origin and extension lines are non-empty single lines"))
    if not isinstance(checkpoint.size, int) or not 0 <= checkpoint.size <= MAX_TREE_SIZE:
        raise MalformedCheckpoint(N_("the checkpoint's tree size is not a decimal number without leading zeros"))
    if not isinstance(checkpoint.root_hash, bytes) or len(checkpoint.root_hash) != HASH_SIZE:
        raise MalformedCheckpoint(N_("the checkpoint's root hash is not the base64 of 32 bytes"))
