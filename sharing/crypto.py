"""Secrets at rest (TOTP seeds, SSO client secrets) and token hashing."""

from __future__ import annotations

import base64
import hashlib
import secrets

from cryptography.fernet import Fernet, InvalidToken

from sharing.config import get_settings


def _fernet() -> Fernet:
    key = get_settings().resolved_secret_key().encode("utf-8")
    derived = hashlib.sha256(b"portal-secrets-at-rest:" + key).digest()
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt_secret(plain: str) -> str:
    return _fernet().encrypt(plain.encode("utf-8")).decode("ascii")


def decrypt_secret(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as error:  # the secret key changed since this was stored
        raise ValueError("stored secret cannot be read with the current secret key") from error


def new_token() -> str:
    """A random URL-safe token for cookies and one-time tickets."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database keeps instead of a token (a stolen table gives no sessions)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
