"""The LRS driven by a real xAPI client: npm `@xapi/xapi` in Node, through its own API only."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from events.models import Event, Site
from events.tests import js_clients
from xapi.models import Statement

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_xapi_package_sends_reads_pages_and_voids_statements_and_keeps_a_bookmark_in_state(live_server, run_worker):
    folder = js_clients.node_modules().parent
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is required (it comes with npm)")
    site = Site.objects.create(name="LRS", allow_custom_events=False)
    key = site.rotate_server_key()
    done = subprocess.run(
        [node, "xapi_client.js", f"{live_server.url}/xapi/", site.site_id, key],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)

    assert result["about"] == {"version": ["1.0.3"]}
    assert result["read"]["id"] == result["passed"] and result["read"]["result"]["score"]["scaled"] == 0.9
    assert result["voided"]["id"] == result["attempted"] and result["missing"] == 404
    # Three statements about the lesson are left once one is voided: one on each page, then one more.
    assert [s["id"] for s in result["firstPage"]["statements"]] == [result["completed"]]
    assert [s["id"] for s in result["secondPage"]["statements"]] == [result["passed"]]
    assert Statement.objects.filter(site=site).count() == 4  # three and the voiding one
    assert result["bookmark"] == {"position": 42, "speed": 1.5} and result["stateIds"] == ["bookmark"]
    assert result["deleted"] == 404
    assert Statement.objects.get(pk=result["attempted"]).voided
    run_worker()
    assert Event.objects.filter(site=site, category="xapi").count() == 4
