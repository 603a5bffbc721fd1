"""Figures are built without a database, and nothing a visitor typed reaches them unescaped."""

from __future__ import annotations

from datetime import UTC, date, datetime

from dashboard import charts
from dashboard.queries import CityPoint, CountRow, TrendPoint, VisitRow

EVIL = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


def test_a_bar_chart_shows_an_evil_path_as_text_not_markup():
    fig = charts.count_bars(rows=[CountRow(value=EVIL, count=3)], title="Top pages")
    label = fig.data[0].y[0]
    assert "<" not in label and "&lt;img" in label
    html = charts.render(fig, div_id="c1")
    assert "<script>alert" not in html and "<img src=x" not in html


def test_the_trend_has_one_point_per_bucket_and_the_previous_period_dotted():
    points = [TrendPoint(bucket=date(2024, 2, d), visitors=d, visits=d + 1, pageviews=d * 3) for d in (1, 2, 3)]
    fig = charts.trend(points=points, previous=points)
    assert [t.name for t in fig.data] == ["Visitors", "Visits", "Page views", "Visitors, previous period"]
    assert list(fig.data[2].y) == [3, 6, 9]
    assert fig.data[3].line.dash == "dot"


def test_the_world_map_colours_countries_by_iso3_and_places_cities_without_tiles():
    fig = charts.world(
        countries=[
            VisitRow(value="IN", visits=9, bounces=0, duration=0, pageviews=9),
            VisitRow(value="", visits=1, bounces=0, duration=0, pageviews=1),
        ],
        cities=[CityPoint(country="IN", region="Maharashtra", city=EVIL, visits=4, latitude=19.0, longitude=72.8)],
    )
    assert list(fig.data[0].locations) == ["IND"]
    assert fig.data[1].type == "scattergeo" and "&lt;img" in fig.data[1].text[0]
    assert "mapbox" not in charts.render(fig, div_id="map")


def test_long_labels_are_shortened_after_escaping_cannot_split_an_entity():
    label = charts.safe("/" + "a" * 100 + "<b>")
    assert len(label) <= charts.LABEL_LIMIT and label.endswith("…")


def test_realtime_minutes_are_labelled_by_clock_time():
    fig = charts.per_minute(points=[(datetime(2024, 1, 1, 9, 5, tzinfo=UTC), 2)])
    assert list(fig.data[0].x) == ["09:05"]
