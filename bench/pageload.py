"""Page weight and load time of the Overview dashboard in headless Chromium, before vs after.

    python bench/pageload.py              # 5 cold and 5 warm loads of each
    python bench/pageload.py --runs 9

Two servers (gunicorn, DEBUG off) run on the same database of demo traffic:
- before: the full plotly.min.js from the plotly package (PLOTLY_BUNDLE=full), static files not
  collected, so whitenoise serves them uncompressed under their plain names with a 60 s cache;
- after: the defaults: the partial plotly.js bundle the page needs, collected by collectstatic
  into content-hashed, gzipped files served with a one-year immutable cache.

For each, Chromium loads the Overview (1400 x 900) with an empty cache ("cold", a fresh browser
profile each time) and then again with its cache ("warm"). Time: navigation start to the moment
every chart is drawn (the load event when they were drawn before it). Bytes: what crossed the
network (transferSize of the document and every resource). It prints medians and the ratio, and
how long the server took to start answering with the page (its queries: the same in both).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from common import ROOT, free_port, fresh_sqlite, median, start_queue_server, wait_for_health

DRAWN = """
const done = arguments[arguments.length - 1];
const nav = performance.getEntriesByType('navigation')[0];
function allDrawn() {
  const plots = [...document.querySelectorAll('.js-plotly-plot')];
  return plots.length > 0 && plots.every(p => p._fullLayout && p.querySelector('.main-svg'));
}
function report(drawnAt) {
  const bytes = [nav, ...performance.getEntriesByType('resource')].reduce((sum, e) => sum + e.transferSize, 0);
  done({ms: drawnAt, bytes: bytes, server: nav.responseStart - nav.requestStart,
        plots: document.querySelectorAll('.js-plotly-plot').length});
}
if (allDrawn()) { report(nav.loadEventEnd); } else {
  const timer = setInterval(function () { if (allDrawn()) { clearInterval(timer); report(performance.now()); } }, 5);
}
"""


def server(*, port: int, env: dict[str, str]) -> subprocess.Popen:
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "the_eye.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    wait_for_health(port=port, timeout=60)
    return web


def chromium():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    profile = tempfile.mkdtemp(prefix="bench-chromium-")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,900", "--no-first-run"):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(executable_path=shutil.which("chromedriver")), options=options)
    driver.set_script_timeout(60)
    return driver, profile


def measure(*, base: str, session: str, runs: int) -> dict[str, list[float]]:
    """Cold and warm loads of the Overview: a fresh browser profile per cold load."""
    found: dict[str, list[float]] = {k: [] for k in ("cold_ms", "cold_bytes", "warm_ms", "warm_bytes", "server_ms")}
    for _ in range(runs):
        driver, profile = chromium()
        try:
            driver.get(base + "/health/")
            driver.add_cookie({"name": "sessionid", "value": session, "path": "/"})
            for kind in ("cold", "warm"):
                driver.get(base + "/dashboard/?period=30d")
                result = driver.execute_async_script(DRAWN)
                assert result["plots"] >= 2, result
                found[f"{kind}_ms"].append(result["ms"])
                found[f"{kind}_bytes"].append(result["bytes"])
                found["server_ms"].append(result["server"])
        finally:
            driver.quit()
            shutil.rmtree(profile, ignore_errors=True)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--events", type=int, default=3000)
    args = parser.parse_args()

    database_url = fresh_sqlite("bench_pageload")
    redis_url, valkey = start_queue_server()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    collected = Path(tempfile.mkdtemp(prefix="bench-static-after-"))
    uncollected = Path(tempfile.mkdtemp(prefix="bench-static-before-"))
    subprocess.run([*manage, "migrate", "--verbosity", "0"], env=env, cwd=ROOT, check=True)
    subprocess.run(
        [*manage, "demo", "--events", str(args.events)], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL
    )
    subprocess.run(
        [*manage, "collectstatic", "--noinput", "--verbosity", "0"],
        env={**env, "STATIC_ROOT": str(collected)},
        cwd=ROOT,
        check=True,
    )
    session = subprocess.run(
        [
            *manage,
            "shell",
            "-c",
            "from django.contrib.auth import get_user_model; from django.test import Client; "
            "u = get_user_model().objects.get_or_create(username='bench', defaults={'is_staff': True})[0]; "
            "c = Client(); c.force_login(u); print(c.cookies['sessionid'].value)",
        ],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()[-1]

    setups = {
        "before": {**env, "PLOTLY_BUNDLE": "full", "STATIC_ROOT": str(uncollected)},
        "after": {**env, "PLOTLY_BUNDLE": "partial", "STATIC_ROOT": str(collected)},
    }
    results = {}
    for name, setup in setups.items():
        port = free_port()
        web = server(port=port, env=setup)
        try:
            results[name] = measure(base=f"http://127.0.0.1:{port}", session=session, runs=args.runs)
        finally:
            web.terminate()
            web.wait()
    if valkey is not None:
        valkey.stop()
    shutil.rmtree(collected, ignore_errors=True)
    shutil.rmtree(uncollected, ignore_errors=True)

    print(f"Overview, 30 days of {args.events:,} demo events, median of {args.runs} loads in headless Chromium")
    print(f"{'':26}{'before':>12}{'after':>12}{'after/before':>14}")
    for key, label, unit in (
        ("cold_ms", "cold load to charts drawn", "ms"),
        ("cold_bytes", "cold bytes transferred", "KB"),
        ("warm_ms", "warm load to charts drawn", "ms"),
        ("warm_bytes", "warm bytes transferred", "KB"),
        ("server_ms", "of which HTML from server", "ms"),
    ):
        before, after = median(results["before"][key]), median(results["after"][key])
        scale = 1024 if unit == "KB" else 1
        ratio = f"{after / before:.2f}" if before else "-"
        print(f"{label:26}{before / scale:>9.0f} {unit}{after / scale:>9.0f} {unit}{ratio:>14}")


if __name__ == "__main__":
    main()
