from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest

from progress import tracking
from progress.models import CompletedHow, Course, Progress, Tutorial, Video


class TutorialInline(admin.TabularInline):
    model = Tutorial
    fields = ["order", "title", "slug", "level"]
    prepopulated_fields = {"slug": ["title"]}
    show_change_link = True  # videos are edited on the tutorial's page
    extra = 0


class VideoInline(admin.TabularInline):
    model = Video
    fields = ["language", "duration_seconds", "source"]
    extra = 0


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "completion_threshold", "tutorial_count"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [TutorialInline]

    @admin.display(description="tutorials")
    def tutorial_count(self, obj: Course) -> int:
        return obj.tutorials.count()


@admin.register(Tutorial)
class TutorialAdmin(admin.ModelAdmin):
    list_display = ["title", "course", "order", "level", "languages"]
    list_filter = ["course", "level"]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    list_select_related = ["course"]
    inlines = [VideoInline]

    @admin.display(description="languages")
    def languages(self, obj: Tutorial) -> str:
        return ", ".join(v.language for v in obj.videos.all())

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).prefetch_related("videos")


@admin.register(Progress)
class ProgressAdmin(admin.ModelAdmin):
    """Progress is changed only through progress.tracking, so staff use the actions, not the form."""

    list_display = [
        "learner",
        "course",
        "tutorial",
        "language",
        "percent_watched",
        "completed",
        "completed_how",
        "last_position",
        "visits",
        "updated_at",
    ]
    list_filter = [("tutorial__course", admin.RelatedOnlyFieldListFilter), "language", "completed", "completed_how"]
    search_fields = ["learner__username", "tutorial__title"]
    list_select_related = ["learner", "tutorial__course"]
    date_hierarchy = "updated_at"
    actions = ["mark_complete", "mark_incomplete"]

    @admin.display(description="course", ordering="tutorial__course__name")
    def course(self, obj: Progress) -> str:
        return obj.tutorial.course.name

    @admin.display(description="watched", ordering="watched_seconds")
    def percent_watched(self, obj: Progress) -> str:
        return f"{obj.percent} % ({obj.watched_seconds} of {obj.duration_seconds} s)"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.action(description="Mark complete")
    def mark_complete(self, request: HttpRequest, queryset) -> None:
        self._mark(request, queryset, completed=True)

    @admin.action(description="Mark incomplete (forgets the watched seconds)")
    def mark_incomplete(self, request: HttpRequest, queryset) -> None:
        self._mark(request, queryset, completed=False)

    def _mark(self, request: HttpRequest, queryset, *, completed: bool) -> None:
        count = 0
        for row in queryset.select_related("learner", "tutorial"):
            tracking.set_completed(
                learner=row.learner,
                tutorial=row.tutorial,
                language=row.language,
                completed=completed,
                how=CompletedHow.STAFF,
            )
            count += 1
        self.message_user(request, f"{count} marked {'complete' if completed else 'incomplete'}.", messages.SUCCESS)
