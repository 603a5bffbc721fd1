"""Figures are built without a database, and nothing a visitor typed reaches them unescaped."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from django.conf import settings

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


def annotation_texts(fig) -> list[str]:
    return [a.text for a in fig.layout.annotations]


def test_an_empty_range_says_no_data_instead_of_a_bare_frame():
    empty = [TrendPoint(bucket=date(2024, 2, d), visitors=0, visits=0, pageviews=0) for d in (1, 2)]
    assert annotation_texts(charts.trend(points=empty)) == [charts.NO_DATA]
    assert annotation_texts(charts.count_bars(rows=[], title="Top pages")) == [charts.NO_DATA]
    assert annotation_texts(charts.donut(labels=[], values=[], title="Devices")) == [charts.NO_DATA]
    some = [TrendPoint(bucket=date(2024, 2, 1), visitors=1, visits=1, pageviews=2)]
    assert annotation_texts(charts.trend(points=some)) == []


def test_small_counts_get_whole_number_ticks():
    points = [TrendPoint(bucket=date(2024, 2, d), visitors=1, visits=1, pageviews=2) for d in (1, 2, 3)]
    axis = charts.trend(points=points).layout.yaxis
    assert axis.dtick == 1 and axis.tickformat == ",d"
    bars = charts.count_bars(rows=[CountRow(value="/", count=3)], title="Top pages").layout.xaxis
    assert bars.dtick == 1


def test_ticks_sit_on_bucket_starts_and_are_labelled_for_the_grain():
    mondays = [date(2024, 1, 1), date(2024, 1, 8), date(2024, 1, 15)]
    weeks = charts.trend(
        points=[TrendPoint(bucket=d, visitors=5, visits=6, pageviews=9) for d in mondays], grain="week"
    )
    assert list(weeks.layout.xaxis.tickvals) == [d.isoformat() for d in mondays]
    assert list(weeks.layout.xaxis.ticktext) == ["Week of Jan 1", "Week of Jan 8", "Week of Jan 15"]
    hours = [datetime(2024, 1, 1, h, tzinfo=UTC) for h in range(24)]
    day = charts.trend(points=[TrendPoint(bucket=h, visitors=1, visits=1, pageviews=1) for h in hours], grain="hour")
    assert list(day.layout.xaxis.ticktext) == [f"{h:02d}:00" for h in range(0, 24, 4)]
    assert len(day.layout.xaxis.tickvals) <= charts.MAX_TICKS


def test_a_chart_title_becomes_a_heading_escaped_once_and_the_modebar_is_hidden():
    html = charts.render(charts.curve(x=[0], y=[1.0], title="Tom & Jerry", x_title="t", y_title="s"), div_id="c")
    assert '<h2 class="chart-title">Tom &amp; Jerry</h2>' in html and "&amp;amp;" not in html
    assert '"displayModeBar": false' in html


def test_each_page_loads_the_partial_plotly_bundle_that_draws_all_its_traces():
    basic = [
        charts.render(charts.trend(points=[]), div_id="a"),
        charts.render(charts.donut(labels=["a"], values=[1], title="d"), div_id="b"),
        charts.render(charts.count_bars(rows=[CountRow(value="/", count=1)], title="t"), div_id="c"),
    ]
    geo = charts.render(
        charts.world(countries=[VisitRow(value="IN", visits=1, bounces=0, duration=0, pageviews=1)], cities=[]),
        div_id="m",
    )
    assert charts.bundle_for(basic) == "vendor/plotly/plotly-basic.min.js"
    assert charts.bundle_for([geo]) == "vendor/plotly/plotly-geo.min.js"
    for path, types in charts.BUNDLES.items():
        assert (Path(settings.BASE_DIR) / "static" / path).exists() and types
    with pytest.raises(ValueError):
        charts.bundle_for([*basic, geo])  # no partial bundle has both bars and maps
