"""The site's signing key: made locally when none is given, refused when public or weak."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

# Shown by earlier versions of settings.py, docker-compose.yml and the docs: known to everyone.
PUBLIC_KEYS = {"the-eye-development-key-change-me-in-production-0123456789"}
KEY_FILE = "secret-key"


def local_key(var_dir: Path) -> str:
    """This checkout's own random key, made on first use and kept in `var/secret-key` (mode 600)."""
    path = var_dir / KEY_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(50)
    try:
        # O_EXCL: two processes starting together keep the same key (the loser reads the winner's).
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as file:
        file.write(key + "\n")
    return key


def refuse_weak(key: str) -> None:
    """Raise ImproperlyConfigured for a public key or one Django's deploy check calls weak."""
    if key in PUBLIC_KEYS:
        raise ImproperlyConfigured(
            "SECRET_KEY is the public development key; with DEBUG off, set your own "
            '(python -c "import secrets; print(secrets.token_urlsafe(50))").'
        )
    if len(key) < 50 or len(set(key)) < 5 or key.startswith("django-insecure-"):
        raise ImproperlyConfigured("SECRET_KEY is too weak: use at least 50 random characters.")
