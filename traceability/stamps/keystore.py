"""Where private signing keys live: files in KEYS_DIR, mode 0600, optionally encrypted."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from traceability.errors import DomainError
from traceability.i18n import N_


class KeyStoreError(DomainError):
    status = 500
    code = "key_store"


class KeyStore(Protocol):
    """What the service needs of private-key storage, so an HSM or vault can replace the files.

    `purpose` is "stamp" (signs stamps) or "publication" (signs the trust list and revocation bundle);
    key ids are unique across both.
    """

    def save(self, key_id: int, key: Ed25519PrivateKey, purpose: str = "stamp") -> None: ...

    def load(self, key_id: int, purpose: str = "stamp") -> Ed25519PrivateKey: ...

    def has(self, key_id: int, purpose: str = "stamp") -> bool: ...

    def ids(self, purpose: str = "stamp") -> list[int]: ...


# File name prefix per key purpose: a publication key never sits where a stamp key is looked for.
PREFIXES = {"stamp": "ocop-ed25519-", "publication": "ocop-publication-"}


class FileKeyStore:
    """PKCS#8 PEM files named ocop-ed25519-<kid>.pem (stamp keys) or ocop-publication-<kid>.pem
    (publication keys); never group- or world-readable."""

    def __init__(self, directory: str | os.PathLike[str], passphrase: str | None = None) -> None:
        self.directory = Path(directory)
        self._passphrase = passphrase.encode() if passphrase else None

    @staticmethod
    def _prefix(purpose: str) -> str:
        try:
            return PREFIXES[purpose]
        except KeyError:
            raise KeyStoreError(N_("unknown key purpose %(purpose)s"), params={"purpose": repr(purpose)}) from None

    def path(self, key_id: int, purpose: str = "stamp") -> Path:
        """Return the file that holds key_id."""
        return self.directory / f"{self._prefix(purpose)}{key_id}.pem"

    def has(self, key_id: int, purpose: str = "stamp") -> bool:
        """Say whether the private half of key_id is here."""
        return self.path(key_id, purpose).exists()

    def ids(self, purpose: str = "stamp") -> list[int]:
        """Return the ids of the keys of this purpose whose private halves are stored here."""
        prefix = self._prefix(purpose)
        found = []
        for path in self.directory.glob(f"{prefix}*.pem"):
            suffix = path.stem.removeprefix(prefix)
            if suffix.isdigit():
                found.append(int(suffix))
        return sorted(found)

    def save(self, key_id: int, key: Ed25519PrivateKey, purpose: str = "stamp") -> None:
        """Write a new key file with mode 0600; never overwrite an existing key."""
        self.directory.mkdir(parents=True, exist_ok=True)
        encryption = BestAvailableEncryption(self._passphrase) if self._passphrase else NoEncryption()
        pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, encryption)
        try:
            # O_EXCL: a key id is never written twice; 0o600 from creation, so no window of wider access.
            fd = os.open(self.path(key_id, purpose), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError as error:
            raise KeyStoreError(
                N_("a private key file for key %(key)s already exists; refusing to replace it"), params={"key": key_id}
            ) from error
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        os.chmod(self.path(key_id, purpose), 0o600)

    def load(self, key_id: int, purpose: str = "stamp") -> Ed25519PrivateKey:
        """Read key_id, refusing a file that others can read (as ssh does)."""
        path = self.path(key_id, purpose)
        if not path.exists():
            raise KeyStoreError(
                N_("the private key for key %(key)s is not in %(directory)s"),
                params={"key": key_id, "directory": str(self.directory)},
            )
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise KeyStoreError(
                N_("%(path)s is readable by others (mode %(mode)s); run: chmod 600 %(path)s"),
                params={"path": str(path), "mode": f"{mode:o}"},
            )
        try:
            key = load_pem_private_key(path.read_bytes(), password=self._passphrase)
        except TypeError as error:
            raise KeyStoreError(
                N_(
                    "%(path)s is encrypted and KEYS_PASSPHRASE is not set, "
                    "or it is not encrypted but a passphrase was given"
                ),
                params={"path": str(path)},
            ) from error
        except ValueError as error:
            raise KeyStoreError(
                N_("cannot read %(path)s: wrong KEYS_PASSPHRASE or a damaged file"), params={"path": str(path)}
            ) from error
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyStoreError(N_("%(path)s does not hold an Ed25519 key"), params={"path": str(path)})
        return key


def store_from_config(config: Mapping[str, Any]) -> FileKeyStore:
    """Return the key store the configuration names."""
    return FileKeyStore(config["KEYS_DIR"], config.get("KEYS_PASSPHRASE"))
