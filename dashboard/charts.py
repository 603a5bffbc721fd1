"""Plotly figures built from `dashboard.queries` results: pure functions, no database, no request.

Every string that came from a visitor (paths, titles, referrers, event data) is HTML-escaped with
`safe()` before it becomes a label, text or hover text: Plotly renders a subset of HTML in those,
and a tracked URL must never inject markup. `render()` turns a figure into a <div> and a <script>
that calls the plotly.js we serve from our own static files.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import date, datetime

import plotly.graph_objects as go
import plotly.io as pio
import pycountry
from django.conf import settings
from django.templatetags.static import static

from dashboard.queries import CityPoint, CountRow, TrendPoint, VisitRow

COLORS = ["#3056d3", "#13a89e", "#f29f05", "#d94862", "#7b5ea7", "#5c8d2f", "#8a8a8a"]
# No modebar: on a narrow card it covers the title, and the tables below have CSV/TSV exports.
CONFIG = {"displaylogo": False, "responsive": True, "displayModeBar": False}
LABEL_LIMIT = 60
NO_DATA = "No data in this range"
# plotly.js partial bundles (npm plotly.js-basic-dist-min and plotly.js-geo-dist-min, the same
# plotly.js version as the plotly package's), committed under static/vendor/plotly/ with their
# licence, and the trace types each one draws. A page loads the first bundle that draws all of
# its figures' traces: the full plotly.min.js is four times their size.
BUNDLES = {
    "vendor/plotly/plotly-basic.min.js": frozenset({"scatter", "bar", "pie"}),
    "vendor/plotly/plotly-geo.min.js": frozenset({"scatter", "scattergeo", "choropleth"}),
}
FULL_BUNDLE = "vendor/plotly.min.js"  # served from the plotly package when PLOTLY_BUNDLE=full
_TRACES_ATTR = re.compile(r'<div class="chart" data-traces="([a-z0-9 ]*)">')


def shorten(text: object, *, limit: int = LABEL_LIMIT) -> str:
    """A visitor-supplied string cut to `limit` characters, not escaped (titles escape it once)."""
    value = str(text) if text not in (None, "") else "(none)"
    return value[: limit - 1] + "…" if len(value) > limit else value


def safe(text: object, *, limit: int = LABEL_LIMIT) -> str:
    """A visitor-supplied string made inert for Plotly text and HTML (shortened, then escaped)."""
    # Without "<" no tag can open; quotes stay as they are (Plotly would show &quot; literally).
    return html.escape(shorten(text, limit=limit), quote=False)


def _layout(fig: go.Figure, *, title: str, height: int = 320) -> go.Figure:
    fig.update_layout(
        title={"text": html.escape(title), "x": 0, "font": {"size": 15}},
        height=height,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        xaxis={"automargin": True},
        yaxis={"automargin": True},
        paper_bgcolor="white",
        plot_bgcolor="white",
        colorway=COLORS,
        legend={"orientation": "h", "y": -0.15},
        font={"family": "system-ui, sans-serif", "size": 12},
        # No plotly theme: ours is set above, and the default theme adds ~8 KB to every figure.
        template="none",
    )
    return fig


def _no_data(fig: go.Figure, *, empty: bool) -> None:
    """Say so in the middle of an empty chart instead of drawing a bare frame."""
    if empty:
        fig.add_annotation(
            text=NO_DATA,
            xref="paper",
            yref="paper",
            x=0.5,
            y=0.5,
            showarrow=False,
            font={"size": 14, "color": "#5b6478"},
            name="no-data",
        )


def _count_axis(fig: go.Figure, *, values: Sequence[float], axis: str = "y") -> None:
    """Counts get whole-number ticks: small ranges step by one, larger ones never show fractions."""
    top = max(values, default=0)
    update = fig.update_yaxes if axis == "y" else fig.update_xaxes
    if top <= 5:
        update(tick0=0, dtick=1, range=[0, max(top, 1) * 1.05])
    update(tickformat=",d", rangemode="tozero")


TICK_FORMATS = {"hour": "%H:%M", "day": "%b %-d", "week": "%b %-d", "month": "%b %Y", "year": "%Y"}
MAX_TICKS = 6  # what fits a phone's plot width without rotating the labels


def _bucket_ticks(fig: go.Figure, *, buckets: Sequence[date | datetime], grain: str) -> None:
    """Ticks sit on bucket starts (a week's Monday, a month's first day), thinned to at most 6."""
    if not buckets:
        return
    step = -(-len(buckets) // MAX_TICKS)
    shown = list(buckets)[::step]
    fmt = TICK_FORMATS.get(grain, "%b %-d")
    prefix = "Week of " if grain == "week" and len(shown) <= 4 else ""
    fig.update_xaxes(
        type="date",
        tickangle=0,
        tickmode="array",
        tickvals=[b.isoformat() for b in shown],
        ticktext=[prefix + b.strftime(fmt) for b in shown],
    )


def trend(
    *, points: Sequence[TrendPoint], previous: Sequence[TrendPoint] = (), title: str = "Trend", grain: str = "day"
) -> go.Figure:
    """Lines of visitors, visits and page views per bucket; the previous period dotted.

    `grain` is "hour", "day", "week", "month" or "year": ticks sit on bucket starts and are
    labelled for that grain. Counts get whole-number ticks; an empty range says so.
    """
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
    values = [v for p in points for v in (p.visitors, p.visits, p.pageviews)]
    values += [p.visitors for p in previous]
    _count_axis(fig, values=values)
    _bucket_ticks(fig, buckets=[p.bucket for p in points], grain=grain)
    _no_data(fig, empty=not any(values))
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
    if all(float(v).is_integer() for v in values):
        _count_axis(fig, values=list(values), axis="x")
    _no_data(fig, empty=not any(values))
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
    _no_data(fig, empty=not any(values))
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
            # Below the map, not beside it: on a phone a side bar takes a third of the width.
            colorbar={
                "title": {"text": "Visits", "side": "top"},
                "thickness": 10,
                "orientation": "h",
                "y": -0.05,
                "len": 0.5,
            },
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
        # Centred on Greenwich whatever the data (plotly would centre on the points, cutting off
        # the Americas), without Antarctica.
        projection_rotation_lon=0,
        center_lon=0,
        lataxis_range=[-58, 85],
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
    fig.update_xaxes(type="category", nticks=8)
    fig.update_yaxes(rangemode="tozero", gridcolor="#eee")
    _count_axis(fig, values=[n for _, n in points])
    _no_data(fig, empty=not any(n for _, n in points))
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
    counts = [n for by_day in series.values() for n in by_day.values()]
    _count_axis(fig, values=counts)
    _bucket_ticks(fig, buckets=list(days), grain="day")
    _no_data(fig, empty=not any(counts))
    return _layout(fig, title=title, height=280)


def curve(*, x: Sequence[float | str], y: Sequence[float], title: str, x_title: str, y_title: str) -> go.Figure:
    """A single line, e.g. an audience-retention curve (share still watching per minute)."""
    fig = go.Figure(go.Scatter(x=list(x), y=list(y), mode="lines+markers", line={"shape": "hv"}))
    fig.update_xaxes(title=html.escape(x_title), gridcolor="#eee")
    fig.update_yaxes(title=html.escape(y_title), rangemode="tozero", gridcolor="#eee", tickformat=".0%")
    _no_data(fig, empty=not any(y))
    return _layout(fig, title=title, height=280)


def bundle_for(figures: Sequence[str]) -> str:
    """The static path of the plotly.js that draws every trace of these rendered figures.

    Raises ValueError when no partial bundle draws them all (a chart with a new trace type needs
    a bundle that has it, or PLOTLY_BUNDLE=full).
    """
    if settings.PLOTLY_BUNDLE == "full":
        return FULL_BUNDLE
    wanted = {t for f in figures for m in _TRACES_ATTR.findall(f) for t in m.split()}
    for path, types in BUNDLES.items():
        if wanted <= types:
            return path
    raise ValueError(f"no plotly.js partial bundle draws {sorted(wanted)}")


def render(fig: go.Figure, *, div_id: str) -> str:
    """The figure as an HTML fragment that draws it with our static plotly.js (never a CDN).

    Maps load their world outline from our static files too (see `build_world_map`): plotly.js
    would otherwise fetch it from its CDN.
    """
    config = {**CONFIG, "topojsonURL": static("vendor/topojson/")}
    traces = " ".join(sorted({trace.type for trace in fig.data}))
    # The title becomes a heading of the page: it wraps on a phone (an SVG title is cut off),
    # and screen readers list it. It was escaped once, in _layout().
    fig = go.Figure(fig)  # a copy: the caller's figure keeps its title
    title = fig.layout.title.text or ""
    if title:
        fig.update_layout(title=None, margin_t=8)
    drawn = pio.to_html(fig, full_html=False, include_plotlyjs=False, config=config, div_id=div_id)
    heading = f'<h2 class="chart-title">{title}</h2>' if title else ""
    return f'<div class="chart" data-traces="{traces}">{heading}{drawn}</div>'
