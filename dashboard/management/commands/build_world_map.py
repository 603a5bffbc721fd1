"""Make the world map file plotly.js geo charts load from our static files instead of its CDN.

Input: `countries-110m.json` of the npm package world-atlas (Natural Earth, public domain), whose
countries carry ISO 3166 numeric ids. Output: the same TopoJSON with ISO alpha-3 ids (what
Plotly's `locationmode="ISO-3"` matches), named `world_110m.json` as plotly.js expects, in
dashboard/static/vendor/topojson/. The page sets plotly's `topojsonURL` to that folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pycountry
from django.core.management.base import BaseCommand

OUTPUT = Path(__file__).resolve().parents[2] / "static" / "vendor" / "topojson" / "world_110m.json"


class Command(BaseCommand):
    help = "Convert world-atlas countries-110m.json into the topojson plotly.js geo charts load."

    def add_arguments(self, parser) -> None:
        parser.add_argument("source", help="path to world-atlas's countries-110m.json")

    def handle(self, *args: Any, source: str, **options: Any) -> None:
        atlas = json.loads(Path(source).read_text())
        for geometry in atlas["objects"]["countries"]["geometries"]:
            country = pycountry.countries.get(numeric=str(geometry.get("id", "")).zfill(3))
            geometry["id"] = country.alpha_3 if country else geometry.get("properties", {}).get("name", "")
        OUTPUT.parent.mkdir(parents=True, exist_ok=True)
        OUTPUT.write_text(json.dumps(atlas, separators=(",", ":")))
        self.stdout.write(f"wrote {OUTPUT} ({OUTPUT.stat().st_size:,} bytes)")
