"""Courses (a FOSS), their tutorials, one video per tutorial and language, and learner progress.

`Progress` rows are created and changed only by `progress.tracking` (the one write path); admin
edits courses, tutorials and videos directly, and changes progress through tracking's functions.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from progress import coverage

# An absolute http(s) URL, or a path on this site such as /static/progress/videos/bash.webm.
video_source = RegexValidator(
    r"^(https?://\S+|/\S*)$", "Enter an absolute http(s) URL or a path on this site starting with /."
)


class Level(models.TextChoices):
    BASIC = "basic", "Basic"
    INTERMEDIATE = "intermediate", "Intermediate"
    ADVANCED = "advanced", "Advanced"


class Course(models.Model):
    """A FOSS (free and open-source software) taught by a series of tutorials."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True, help_text="Used in watch page URLs, e.g. BASH.")
    description = models.TextField(blank=True)
    completion_threshold = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Percent of a video's seconds to watch for completion; empty means the site setting.",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(completion_threshold__isnull=True)
                | Q(completion_threshold__gte=1, completion_threshold__lte=100),
                name="course_threshold_is_a_percent",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def threshold(self) -> int:
        """The completion threshold in percent: the course's own, else PROGRESS_COMPLETION_THRESHOLD."""
        return self.completion_threshold or settings.PROGRESS_COMPLETION_THRESHOLD


class Tutorial(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="tutorials")
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200)
    order = models.PositiveIntegerField(default=0, help_text="Position in the course's playlist.")
    level = models.CharField(max_length=16, choices=Level.choices, default=Level.BASIC)

    class Meta:
        ordering = ["course", "order", "title"]
        constraints = [models.UniqueConstraint(fields=["course", "slug"], name="tutorial_slug_per_course")]

    def __str__(self) -> str:
        return f"{self.course.name}: {self.title}"


class Video(models.Model):
    """A tutorial in one language: the file learners watch."""

    tutorial = models.ForeignKey(Tutorial, on_delete=models.CASCADE, related_name="videos")
    language = models.CharField(max_length=35, help_text="Language name as shown to learners, e.g. Hindi.")
    duration_seconds = models.PositiveIntegerField(
        validators=[MinValueValidator(1)], help_text="Length in whole seconds; completion is measured against it."
    )
    source = models.CharField(
        max_length=500,
        validators=[video_source],
        help_text="Absolute http(s) URL of the video, or a path on this site (/static/…, /media/…).",
    )

    class Meta:
        ordering = ["tutorial", "language"]
        constraints = [
            models.UniqueConstraint(fields=["tutorial", "language"], name="one_video_per_tutorial_language"),
            models.CheckConstraint(condition=Q(duration_seconds__gte=1), name="video_duration_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.tutorial} ({self.language})"

    def get_absolute_url(self) -> str:
        return reverse(
            "progress:watch",
            kwargs={"course": self.tutorial.course.slug, "tutorial": self.tutorial.slug, "language": self.language},
        )


class CompletedHow(models.TextChoices):
    AUTO = "auto", "Watched enough"
    MANUAL = "manual", "Marked by the learner"
    STAFF = "staff", "Marked by staff"


class ProgressQuerySet(models.QuerySet["Progress"]):
    def for_learner(self, learner) -> ProgressQuerySet:
        return self.filter(learner=learner)


class Progress(models.Model):
    """What one learner watched of one tutorial in one language.

    `watched` is the union of the seconds actually played, as sorted disjoint `[start, end)`
    intervals (see progress.coverage); `watched_seconds` is its size, kept beside it so lists can
    sort and filter without decoding JSON.
    """

    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="progress")
    tutorial = models.ForeignKey(Tutorial, on_delete=models.CASCADE, related_name="progress")
    language = models.CharField(max_length=35)
    watched = models.JSONField(default=list, blank=True)
    watched_seconds = models.PositiveIntegerField(default=0)
    duration_seconds = models.PositiveIntegerField(default=0, help_text="The video's length when last updated.")
    last_position = models.FloatField(default=0)
    # Client time of the heartbeat that set last_position: a late (offline) upload of an older
    # heartbeat must not move the resume point backwards.
    position_at = models.DateTimeField(null=True, blank=True)
    visits = models.PositiveIntegerField(default=0)
    completed = models.BooleanField(default=False)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_how = models.CharField(max_length=8, choices=CompletedHow.choices, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProgressQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "progress"
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(fields=["learner", "tutorial", "language"], name="one_progress_per_video"),
            models.CheckConstraint(
                condition=Q(completed=False, completed_how="", completed_at__isnull=True)
                | (Q(completed=True, completed_at__isnull=False) & ~Q(completed_how="")),
                name="progress_completion_is_whole",
            ),
        ]
        indexes = [models.Index(fields=["learner", "-updated_at"], name="progress_learner_recent")]

    def __str__(self) -> str:
        return f"{self.learner} · {self.tutorial} ({self.language})"

    @property
    def percent(self) -> int:
        return coverage.percent(watched=self.watched_seconds, duration=self.duration_seconds)

    @property
    def last_watched_at(self):
        """When the learner last played it (the latest heartbeat), else when they last opened it."""
        return self.position_at or self.updated_at

    @property
    def resume_at(self) -> float:
        """Where the player should start: the last position, or the start once the video was finished."""
        if self.duration_seconds and self.last_position >= self.duration_seconds - 1:
            return 0.0
        return round(self.last_position, 1)
