"""Plotly figures built from `dashboard.queries` results: pure functions, no database, no request.

Every string that came from a visitor (paths, titles, referrers, event data) is HTML-escaped with
`safe()` before it becomes a label, text or hover text: Plotly renders a subset of HTML in those,
and a tracked URL must never inject markup. `render()` turns a figure into a <div> and a <script>
that calls the plotly.js we serve from our own static files.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date, datetime

import plotly.graph_objects as go
import plotly.io as pio
import pycountry
from django.templatetags.static import static

from dashboard.queries import CityPoint, CountRow, TrendPoint, VisitRow

COLORS = ["#3056d3", "#13a89e", "#f29f05", "#d94862", "#7b5ea7", "#5c8d2f", "#8a8a8a"]
CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}
LABEL_LIMIT = 60


def safe(text: object, *, limit: int = LABEL_LIMIT) -> str:
    """A visitor-supplied string made inert for Plotly text and HTML (escaped, then shortened)."""
    value = str(text) if text not in (None, "") else "(none)"
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    # Without "<" no tag can open; quotes stay as they are (Plotly would show &quot; literally).
    return html.escape(value, quote=False)


def _layout(fig: go.Figure, *, title: str, height: int = 320) -> go.Figure:
    fig.update_layout(
        title={"text": html.escape(title), "x": 0, "font": {"size": 15}},
        height=height,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        paper_bgcolor="white",
        plot_bgcolor="white",
        colorway=COLORS,
        legend={"orientation": "h", "y": -0.15},
        font={"family": "system-ui, sans-serif", "size": 12},
    )
    return fig


def trend(*, points: Sequence[TrendPoint], previous: Sequence[TrendPoint] = (), title: str = "Trend") -> go.Figure:
    """Lines of visitors, visits and page views per bucket; the previous period dotted."""
    x = [p.bucket.isoformat() for p in points]
    fig = go.Figure()
    for name, attr in (("Visitors", "visitors"), ("Visits", "visits"), ("Page views", "pageviews")):
        fig.add_trace(go.Scatter(x=x, y=[getattr(p, attr) for p in points], mode="lines+markers", name=name))
    if previous and len(previous) == len(points):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[p.visitors for p in previous],
                mode="lines",
                name="Visitors, previous period",
                line={"dash": "dot", "color": "#999"},
                customdata=[p.bucket.isoformat() for p in previous],
                hovertemplate="%{customdata}: %{y} visitors<extra>previous period</extra>",
            )
        )
    fig.update_yaxes(rangemode="tozero", gridcolor="#eee")
    return _layout(fig, title=title)


def bars(*, labels: Sequence[object], values: Sequence[float], title: str, value_name: str = "Views") -> go.Figure:
    """Horizontal bars, largest on top; labels are escaped."""
    shown = [safe(label) for label in labels][::-1]
    fig = go.Figure(
        go.Bar(
            x=list(values)[::-1],
            y=shown,
            orientation="h",
            marker_color=COLORS[0],
            hovertemplate=f"%{{y}}: %{{x}} {html.escape(value_name.lower())}<extra></extra>",
        )
    )
    fig.update_yaxes(automargin=True, type="category")
    fig.update_xaxes(gridcolor="#eee", title=html.escape(value_name))
    return _layout(fig, title=title, height=max(220, 60 + 26 * len(shown)))


def count_bars(*, rows: Sequence[CountRow], title: str, value_name: str = "Views") -> go.Figure:
    return bars(labels=[r.value for r in rows], values=[r.count for r in rows], title=title, value_name=value_name)


def visit_bars(*, rows: Sequence[VisitRow], title: str) -> go.Figure:
    return bars(labels=[r.value for r in rows], values=[r.visits for r in rows], title=title, value_name="Visits")


def donut(*, labels: Sequence[object], values: Sequence[float], title: str) -> go.Figure:
    fig = go.Figure(
        go.Pie(
            labels=[safe(label) for label in labels],
            values=list(values),
            hole=0.55,
            sort=False,
            hovertemplate="%{label}: %{value} (%{percent})<extra></extra>",
        )
    )
    return _layout(fig, title=title, height=300)


def iso3(code: str) -> str | None:
    country = pycountry.countries.get(alpha_2=code.upper()) if len(code) == 2 else None
    return country.alpha_3 if country else None


def country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code.upper()) if len(code) == 2 else None
    return country.name if country else (code or "(unknown)")


def world(*, countries: Sequence[VisitRow], cities: Sequence[CityPoint], title: str = "Visits by country") -> go.Figure:
    """A choropleth of visits per country with city points on top (Plotly geo: no tiles, no token)."""
    mapped = [(iso3(r.value), r) for r in countries]
    mapped = [(code, r) for code, r in mapped if code]
    fig = go.Figure(
        go.Choropleth(
            locations=[code for code, _ in mapped],
            z=[r.visits for _, r in mapped],
            text=[safe(country_name(r.value)) for _, r in mapped],
            locationmode="ISO-3",
            colorscale="Blues",
            marker_line_color="#fff",
            colorbar={"title": "Visits", "thickness": 12},
            hovertemplate="%{text}: %{z} visits<extra></extra>",
            name="Countries",
        )
    )
    placed = [c for c in cities if c.latitude is not None and c.longitude is not None]
    if placed:
        biggest = max(c.visits for c in placed)
        fig.add_trace(
            go.Scattergeo(
                lat=[c.latitude for c in placed],
                lon=[c.longitude for c in placed],
                text=[f"{safe(c.city)}, {safe(c.region)} ({safe(c.country)})" for c in placed],
                customdata=[c.visits for c in placed],
                marker={
                    "size": [6 + 18 * (c.visits / biggest) ** 0.5 for c in placed],
                    "color": COLORS[3],
                    "opacity": 0.75,
                },
                hovertemplate="%{text}: %{customdata} visits<extra></extra>",
                name="Cities",
            )
        )
    fig.update_geos(
        showframe=False,
        showcoastlines=False,
        showcountries=True,
        countrycolor="#ccc",
        showocean=False,
        showlakes=False,
        showrivers=False,
        showsubunits=False,
        resolution=110,
        projection_type="natural earth",
        landcolor="#f4f4f4",
        showland=True,
    )
    return _layout(fig, title=title, height=460)


def per_minute(*, points: Sequence[tuple[datetime, int]], title: str = "Page views per minute") -> go.Figure:
    fig = go.Figure(
        go.Bar(
            x=[t.strftime("%H:%M") for t, _ in points],
            y=[n for _, n in points],
            marker_color=COLORS[1],
            hovertemplate="%{x}: %{y} views<extra></extra>",
        )
    )
    fig.update_xaxes(type="category")
    fig.update_yaxes(rangemode="tozero", gridcolor="#eee")
    return _layout(fig, title=title, height=260)


def daily_lines(*, series: dict[str, dict[date, int]], days: Sequence[date], title: str) -> go.Figure:
    """One line per named series over `days` (missing days count zero)."""
    fig = go.Figure()
    for name, by_day in sorted(series.items()):
        fig.add_trace(
            go.Scatter(
                x=[d.isoformat() for d in days],
                y=[by_day.get(d, 0) for d in days],
                mode="lines+markers",
                name=safe(name),
            )
        )
    if not series:
        fig.add_trace(go.Scatter(x=[d.isoformat() for d in days], y=[0 for _ in days], mode="lines", name="none"))
    fig.update_yaxes(rangemode="tozero", gridcolor="#eee")
    return _layout(fig, title=title, height=280)


def curve(*, x: Sequence[float], y: Sequence[float], title: str, x_title: str, y_title: str) -> go.Figure:
    """A single line, e.g. an audience-retention curve (share still watching per minute)."""
    fig = go.Figure(go.Scatter(x=list(x), y=list(y), mode="lines+markers", line={"shape": "hv"}))
    fig.update_xaxes(title=html.escape(x_title), gridcolor="#eee")
    fig.update_yaxes(title=html.escape(y_title), rangemode="tozero", gridcolor="#eee", tickformat=".0%")
    return _layout(fig, title=title, height=280)


def render(fig: go.Figure, *, div_id: str) -> str:
    """The figure as an HTML fragment that draws it with our static plotly.js (never a CDN).

    Maps load their world outline from our static files too (see `build_world_map`): plotly.js
    would otherwise fetch it from its CDN.
    """
    config = {**CONFIG, "topojsonURL": static("vendor/topojson/")}
    return pio.to_html(fig, full_html=False, include_plotlyjs=False, config=config, div_id=div_id)
