"""What each dashboard page shows: numbers from `queries`, figures from `charts`, as plain data.

Views render these; exports and the realtime JSON reuse the same `Table`s. Table rows hold raw
values (counts, seconds, ratios); each column's format says how the page shows them, so an export
writes plain numbers. Screens list the top rows of each table; an export asks the builder for every
row (`Options.rows`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from dashboard import activity, charts, data_quality, hourly, queries
from dashboard.scope import Scope
from progress import queries as learning

PAGES = {
    "overview": "Overview",
    "pages": "Pages",
    "sources": "Sources",
    "audience": "Audience",
    "geography": "Geography",
    "realtime": "Realtime",
    "visitors": "Visitors",
    "courses": "Courses",
    "quality": "Data quality",
}
CONTENT_TEAM_PAGES = ("courses",)


@dataclass(frozen=True)
class Card:
    label: str
    value: str
    change: float | None = None
    lower_is_better: bool = False


# How a column's raw values are shown on screen, and the unit an export names in its header.
UNITS = {"seconds": "s", "clock": "s", "ratio": "ratio", "percent": "%"}


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    # Optional link per row for the first cell (a URL of this site, built from safe parts).
    links: list[str | None] = field(default_factory=list)
    # Per column: "" (as is) or a key of UNITS; shorter than `columns` means "" for the rest.
    formats: list[str] = field(default_factory=list)

    def format_of(self, column: int) -> str:
        return self.formats[column] if column < len(self.formats) else ""

    def export_columns(self) -> list[str]:
        """Column headers naming the unit of each formatted column, e.g. "Avg. visit (s)"."""
        units = [UNITS.get(self.format_of(i), "") for i in range(len(self.columns))]
        return [f"{c} ({u})" if u else c for c, u in zip(self.columns, units, strict=True)]


@dataclass(frozen=True)
class Options:
    """What a page is asked for besides its scope; every builder takes the same `Options`.

    `rows`: how many rows each table holds (None: the short lists a screen shows; an export asks
    for all of them). `visitor` and `tutorial` choose the journey and the retention curve.
    """

    rows: int | None = None
    visitor: str = ""
    tutorial: str = ""

    def limit(self, on_screen: int) -> int:
        return on_screen if self.rows is None else max(self.rows, on_screen)


SCREEN = Options()


@dataclass(frozen=True)
class Picker:
    """A chooser of what one part of the page shows (e.g. the tutorial of the retention curve)."""

    param: str  # the query-string parameter it sets
    label: str
    options: list[tuple[str, str]]  # (value, label)
    current: str


@dataclass
class Page:
    name: str
    cards: list[Card] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    note: str = ""
    pickers: list[Picker] = field(default_factory=list)

    def table(self, key: str) -> Table | None:
        return next((t for t in self.tables if t.key == key), None)


def clock(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"


def seconds_text(value: float) -> str:
    value = int(round(value))
    return f"{value // 60}m {value % 60:02d}s" if value >= 60 else f"{value}s"


def percent_text(value: float) -> str:
    return f"{100 * value:.1f}%"


def shown(value: Any, fmt: str) -> str:
    """A raw cell value as the page shows it in a column of format `fmt` (None: a dash)."""
    if value is None:
        return "—"
    if fmt and isinstance(value, int | float) and not isinstance(value, bool):
        if fmt == "seconds":
            return seconds_text(value)
        if fmt == "clock":
            return clock(int(value))
        if fmt == "ratio":
            return percent_text(value)
        if fmt == "percent":
            return f"{value:.0f}%"
    return str(value)


def _round(value: float, digits: int) -> float:
    return round(float(value), digits)


def _visit_table(
    key: str, title: str, label: str, rows: list[queries.VisitRow], show: Callable[[str], str] = str
) -> Table:
    return Table(
        key=key,
        title=title,
        columns=[label, "Visits", "Page views", "Bounce rate", "Avg. visit"],
        rows=[
            [
                show(r.value) or "(none)",
                r.visits,
                r.pageviews,
                _round(r.bounce_rate, 4),
                _round(r.visit_duration, 1),
            ]
            for r in rows
        ],
        formats=["", "", "", "ratio", "seconds"],
    )


def _counts_table(key: str, title: str, label: str, rows: list[queries.CountRow], unit: str = "Views") -> Table:
    return Table(key=key, title=title, columns=[label, unit], rows=[[r.value or "(none)", r.count] for r in rows])


def _trend(scope: Scope) -> tuple[list, str]:
    """Points of the trend and their grain: hours when the range is one day, else the scope's grain."""
    if scope.days == 1:
        return hourly.hourly_trend(scope=scope), "hour"
    return queries.trend(scope=scope), scope.grain


def _bucket(moment: object, grain: str) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if grain == "hour" else moment.isoformat()  # type: ignore[attr-defined]


def overview(scope: Scope, options: Options = SCREEN) -> Page:
    comparison = queries.compare(scope=scope)
    now, change = comparison.current, comparison.change
    points, grain = _trend(scope)
    previous, _ = _trend(scope.previous())
    cards = [
        Card("Unique visitors", f"{now.visitors:,}", change("visitors")),
        Card("Visits", f"{now.visits:,}", change("visits")),
        Card("Page views", f"{now.pageviews:,}", change("pageviews")),
        Card("Pages per visit", f"{now.pages_per_visit:.2f}", change("pages_per_visit")),
        Card("Bounce rate", percent_text(now.bounce_rate), change("bounce_rate"), lower_is_better=True),
        Card("Avg. visit", seconds_text(now.visit_duration), change("visit_duration")),
    ]
    split = charts.donut(
        labels=["First-time", "Returning"],
        values=[now.new_visits, now.returning_visits],
        title="First-time vs returning visits",
    )
    trend_table = Table(
        key="trend",
        title=f"Per {grain}",
        columns=[grain.title() + (" (UTC)" if grain == "hour" else ""), "Visitors", "Visits", "Page views"],
        rows=[[_bucket(p.bucket, grain), p.visitors, p.visits, p.pageviews] for p in points],
    )
    return Page(
        name="overview",
        cards=cards,
        figures=[
            charts.render(
                charts.trend(
                    points=points, previous=previous, title=f"Visitors, visits and page views per {grain}", grain=grain
                ),
                div_id="trend",
            ),
            charts.render(split, div_id="new-returning"),
        ],
        tables=[trend_table],
    )


def pages(scope: Scope, options: Options = SCREEN) -> Page:
    top = queries.counts_by(scope=scope, dimension="page", limit=options.limit(20), with_visitors=True)
    names = queries.counts_by(scope=scope, dimension="event_name", limit=options.limit(15))
    kinds = queries.counts_by(scope=scope, dimension="event", limit=options.limit(15))
    entries = queries.visits_by(scope=scope, dimension="entry", limit=options.limit(15))
    exits = queries.visits_by(scope=scope, dimension="exit", limit=options.limit(15))
    page_table = Table(
        key="pages",
        title="Top pages",
        columns=["Page", "Views", "Unique visitors", "Avg. time"],
        rows=[[r.value, r.count, r.visitors, _round(r.average_time, 1)] for r in top],
        links=[scope.query(path=r.value) for r in top],
        formats=["", "", "", "seconds"],
    )
    figures = [charts.render(charts.count_bars(rows=top[:10], title="Top pages by views"), div_id="top-pages")]
    if "path" in scope.filters:
        path_points, grain = _trend(scope)
        figures.insert(
            0,
            charts.render(
                charts.trend(
                    points=path_points, title=f"Trend of {charts.shorten(scope.filters['path'])}", grain=grain
                ),
                div_id="page-trend",
            ),
        )
    return Page(
        name="pages",
        figures=figures,
        tables=[
            page_table,
            _counts_table("event-names", "Event names (page loads)", "Event name", names),
            _counts_table("events", "Events by type", "Type", kinds, unit="Events"),
            Table(
                key="entry",
                title="Entry pages",
                columns=["Page", "Entries", "Bounce rate"],
                rows=[[r.value, r.visits, _round(r.bounce_rate, 4)] for r in entries],
                formats=["", "", "ratio"],
            ),
            Table(key="exit", title="Exit pages", columns=["Page", "Exits"], rows=[[r.value, r.visits] for r in exits]),
        ],
    )


def sources(scope: Scope, options: Options = SCREEN) -> Page:
    referrers = queries.visits_by(scope=scope, dimension="referrer", limit=options.limit(20))
    channels = queries.visits_by(scope=scope, dimension="channel", limit=options.limit(10))
    campaigns = queries.visits_by(scope=scope, dimension="utm_campaign", limit=options.limit(15))
    links = queries.counts_by(scope=scope, dimension="exit_link", limit=options.limit(20))
    return Page(
        name="sources",
        figures=[
            charts.render(
                charts.donut(
                    labels=[r.value or "(none)" for r in channels],
                    values=[r.visits for r in channels],
                    title="Channels",
                ),
                div_id="channels",
            ),
            charts.render(
                charts.visit_bars(rows=[r for r in referrers if r.value][:10], title="Referring sites"),
                div_id="referrers",
            ),
        ],
        tables=[
            _visit_table("referrers", "Referrers", "Referring site", referrers, lambda v: v or "(direct / none)"),
            _visit_table("channels", "Channels", "Channel", channels),
            _visit_table("campaigns", "UTM campaigns", "Campaign", [r for r in campaigns if r.value]),
            _counts_table("exit-links", "Exit links clicked", "Link", links, unit="Clicks"),
        ],
    )


AUDIENCE = [
    ("browser", "Browsers", "Browser"),
    ("os", "Operating systems", "OS"),
    ("device", "Devices", "Device"),
    ("device_type", "Device types", "Type"),
    ("screen", "Screen sizes", "Screen"),
    ("language", "Languages", "Language"),
    ("visitor_type", "New vs returning", "Visitor"),
]


def audience(scope: Scope, options: Options = SCREEN) -> Page:
    tables, figures = [], []
    for dimension, title, label in AUDIENCE:
        rows = queries.visits_by(scope=scope, dimension=dimension, limit=options.limit(10))
        tables.append(_visit_table(dimension, title, label, rows))
        if dimension in ("browser", "device_type", "os"):
            figures.append(
                charts.render(
                    charts.donut(
                        labels=[r.value or "(unknown)" for r in rows], values=[r.visits for r in rows], title=title
                    ),
                    div_id=f"aud-{dimension}",
                )
            )
    return Page(name="audience", figures=figures, tables=tables)


def _place(value: str) -> str:
    return ", ".join(p for p in reversed(value.split("|")) if p) or "(unknown)"


def geography(scope: Scope, options: Options = SCREEN) -> Page:
    countries = queries.visits_by(scope=scope, dimension="country", limit=options.limit(250))
    regions = queries.visits_by(scope=scope, dimension="region", limit=options.limit(15))
    cities = queries.cities(scope=scope, limit=200)
    city_rows = queries.visits_by(scope=scope, dimension="city", limit=options.limit(15))
    return Page(
        name="geography",
        figures=[charts.render(charts.world(countries=countries, cities=cities), div_id="world")],
        tables=[
            _visit_table(
                "countries",
                "Countries",
                "Country",
                countries[: options.limit(20)],
                lambda v: f"{charts.country_name(v)} ({v})" if v else "",
            ),
            _visit_table("regions", "Top regions", "Region", regions, _place),
            _visit_table("cities", "Top cities", "City", city_rows, _place),
        ],
    )


def realtime(scope: Scope, options: Options = SCREEN) -> Page:
    now = activity.realtime(site=scope.site)
    return Page(
        name="realtime",
        cards=[
            Card("Visitors in the last 30 minutes", f"{now.visitors:,}"),
            Card("Page views in the last 30 minutes", f"{now.pageviews:,}"),
        ],
        figures=[charts.render(charts.per_minute(points=now.per_minute), div_id="per-minute")],
        tables=[
            Table(
                key="current",
                title="Pages being viewed",
                columns=["Page", "Visitors", "Views"],
                rows=[[r.value, r.visitors, r.count] for r in now.pages],
            )
        ],
        note=f"As of {datetime.now(UTC):%H:%M:%S} UTC; refreshes every 5 seconds.",
    )


def visitors(scope: Scope, options: Options = SCREEN) -> Page:
    visitor = options.visitor
    sessions = activity.recent_sessions(scope=scope, limit=options.limit(50))
    page = Page(
        name="visitors",
        tables=[
            Table(
                key="sessions",
                title="Recent visits",
                columns=[
                    "Started (UTC)",
                    "Visitor",
                    "Entry page",
                    "Exit page",
                    "Pages",
                    "Duration",
                    "Country",
                    "Device",
                    "Source",
                ],
                rows=[
                    [
                        f"{s.started_at:%Y-%m-%d %H:%M}",
                        s.visitor_id or s.session_id,
                        s.entry_path,
                        s.exit_path,
                        s.pageviews,
                        s.duration_seconds,
                        s.country,
                        s.device_type,
                        s.referrer_host or s.channel,
                    ]
                    for s in sessions
                ],
                links=[scope.query(visitor=s.visitor_id or s.session_id) for s in sessions],
                formats=["", "", "", "", "", "seconds"],
            )
        ],
    )
    per_bucket, grain = _trend(scope)
    page.figures.append(
        charts.render(
            charts.trend(points=per_bucket, title="Visitors per " + grain, grain=grain), div_id="visitors-trend"
        )
    )
    if visitor:
        steps = activity.journey(site=scope.site, visitor=visitor)
        page.tables.insert(
            0,
            Table(
                key="journey",
                title=f"Journey of visitor {visitor}",
                columns=["Time (UTC)", "Visit", "Event", "Page", "Time on it"],
                rows=[
                    [
                        f"{s.at:%Y-%m-%d %H:%M:%S}",
                        s.visit_id,
                        s.kind,
                        s.path,
                        s.seconds,
                    ]
                    for s in steps
                ],
                formats=["", "", "", "", "seconds"],
            ),
        )
    return page


def courses(scope: Scope, options: Options = SCREEN) -> Page:
    tutorial = options.tutorial
    by_views = queries.counts_by(scope=scope, dimension="course", limit=options.limit(15), with_visitors=True)
    per_language = queries.counts_by(scope=scope, dimension="course_language", limit=options.limit(30))
    # Learner figures come from progress, the one place that defines them (My learning too).
    active: dict[str, Any] = {
        "since": scope.start_at(),
        "before": scope.end_before(),
        "course": scope.filters.get("course", ""),
        "language": scope.filters.get("language", ""),
    }
    done = learning.course_completion(**active)
    ranked = learning.tutorial_ranking(**active)
    figures = [charts.render(charts.count_bars(rows=by_views[:10], title="Courses by page views"), div_id="courses")]
    tables = [
        Table(
            key="courses",
            title="Popular courses (watch pages)",
            columns=["Course", "Views", "Unique visitors"],
            rows=[[r.value, r.count, r.visitors] for r in by_views],
        ),
        Table(
            key="course-languages",
            title="Views per course and language",
            columns=["Course", "Language", "Views"],
            rows=[[*(r.value.split("|", 1) + [""])[:2], r.count] for r in per_language],
        ),
        Table(
            key="completion",
            title="Completion per course and language",
            columns=[
                "Course",
                "Language",
                "Learners",
                "Tutorials started",
                "Tutorials completed",
                "Completion of started tutorials",
                "Average course progress",
                "Finished the course",
                "Median % watched",
                "Rewatchers",
                "Re-visits",
            ],
            rows=[
                [
                    r.course,
                    r.language,
                    r.learners,
                    r.started,
                    r.completed,
                    _round(r.completion_of_started, 4),
                    _round(r.course_progress, 4),
                    r.finished,
                    _round(r.median_percent, 1),
                    r.rewatchers,
                    r.revisits,
                ]
                for r in done
            ],
            formats=["", "", "", "", "", "ratio", "ratio", "", "percent"],
        ),
        Table(
            key="tutorials",
            title="Tutorials ranked by learners",
            columns=["Tutorial", "Course", "Language", "Learners", "Completed", "Re-visits"],
            rows=[[t.tutorial, t.course, t.language, t.learners, t.completed, t.revisits] for t in ranked],
            links=[scope.query(tutorial=f"{t.tutorial_id}|{t.language}") for t in ranked],
        ),
    ]
    if done:
        figures.append(
            charts.render(
                charts.bars(
                    labels=[f"{r.course} ({r.language})" for r in done[:12]],
                    values=[round(100 * r.course_progress, 1) for r in done[:12]],
                    title="Average course progress per course and language (%)",
                    value_name="Average course progress",
                ),
                div_id="completion",
            )
        )
    chosen = tutorial or (f"{ranked[0].tutorial_id}|{ranked[0].language}" if ranked else "")
    pickers = []
    if ranked:
        pickers.append(
            Picker(
                param="tutorial",
                label="Retention of",
                options=[
                    (f"{t.tutorial_id}|{t.language}", f"{t.tutorial} · {t.course} ({t.language})") for t in ranked
                ],
                current=chosen,
            )
        )
    tutorial_id, _, language = chosen.partition("|")
    if tutorial_id.isascii() and tutorial_id.isdecimal() and len(tutorial_id) < 10:
        curve = learning.retention(
            tutorial_id=int(tutorial_id), language=language, since=active["since"], before=active["before"]
        )
        name = next(
            (
                f"{t.tutorial} ({t.language})"
                for t in ranked
                if str(t.tutorial_id) == tutorial_id and t.language == language
            ),
            "tutorial",
        )
        if curve:
            figures.append(
                charts.render(
                    charts.curve(
                        x=[clock(second) for second, _ in curve],
                        y=[s for _, s in curve],
                        title=f"Audience retention: {charts.shorten(name)}",
                        x_title="Time in the video (m:ss)",
                        y_title="Viewers still watching",
                    ),
                    div_id="retention",
                )
            )
            tables.append(
                Table(
                    key="retention",
                    title=f"Audience retention: {name}",
                    columns=["From (m:ss)", "Share watching"],
                    rows=[[second, _round(s, 4)] for second, s in curve],
                    formats=["clock", "ratio"],
                )
            )
    return Page(name="courses", figures=figures, tables=tables, pickers=pickers)


def quality(scope: Scope, options: Options = SCREEN) -> Page:
    dropped = data_quality.dropped(scope=scope)
    series = data_quality.dropped_by_day(scope=scope)
    queue = data_quality.queue_state()
    days = [scope.start + timedelta(days=i) for i in range(scope.days)]
    return Page(
        name="quality",
        cards=[
            Card("Queue depth", str(queue.get("depth", "unreachable"))),
            Card("Failed jobs", str(queue.get("failed_jobs", "unreachable"))),
            Card("Workers", str(queue.get("workers", "unreachable"))),
            Card("Dropped events", f"{sum(d.count for d in dropped):,}"),
        ],
        figures=[
            charts.render(
                charts.daily_lines(series=series, days=days, title="Dropped events per day and reason"),
                div_id="dropped",
            )
        ],
        tables=[
            Table(
                key="dropped",
                title="Dropped events by reason",
                columns=["Reason", "Events"],
                rows=[[d.reason, d.count] for d in dropped],
            )
        ],
        note=(
            "Failed jobs keep their payload and error; see the queue dashboard. Quarantined events "
            "(accepted, then refused by the database) are listed in admin with their reasons."
        ),
    )


BUILDERS: dict[str, Callable[..., Page]] = {
    "overview": overview,
    "pages": pages,
    "sources": sources,
    "audience": audience,
    "geography": geography,
    "realtime": realtime,
    "visitors": visitors,
    "courses": courses,
    "quality": quality,
}
