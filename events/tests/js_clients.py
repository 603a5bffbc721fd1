"""Third-party JS clients the tests run unchanged, from npm (events/tests/js, lock file committed)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

FOLDER = Path(__file__).resolve().parent / "js"


def installed() -> bool:
    """True when `node_modules` was installed after the lock file last changed."""
    marker = FOLDER / "node_modules" / ".package-lock.json"
    lock = FOLDER / "package-lock.json"
    return marker.is_file() and marker.stat().st_mtime >= lock.stat().st_mtime


def node_modules() -> Path:
    """Install the packages with `npm ci` unless they are current (bin/test already did it)."""
    if not installed():
        npm = shutil.which("npm")
        if npm is None:
            if os.environ.get("THE_EYE_REQUIRE_BROWSER"):
                pytest.fail("npm is required to install events/tests/js (apt-get install npm)")
            pytest.skip("npm is not installed")
        assert npm is not None
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=FOLDER, check=True, timeout=300)
    return FOLDER / "node_modules"
