"""The audit trail of subject requests: who asked for an export or an erasure, when, of what kind
of subject, and how many rows it touched — never whose data it was.

Rows are written only by `privacy.requests`.
"""

from __future__ import annotations

from django.db import models


class Action(models.TextChoices):
    EXPORT = "export", "Export"
    ERASURE = "erasure", "Erasure"


class Status(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class SubjectKind(models.TextChoices):
    USER = "user", "User name"
    VISITOR = "visitor", "Visitor id"
    SESSION = "session", "Session id"


class SubjectRequest(models.Model):
    """One export or erasure. Holds no identifier of the subject, so it may be kept for good."""

    action = models.CharField(max_length=16, choices=Action.choices)
    subject_kind = models.CharField(max_length=16, choices=SubjectKind.choices)
    requested_by = models.CharField(
        max_length=150,
        help_text="the staff account that asked, 'the subject' for a learner's own request, or 'command'",
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    events = models.PositiveIntegerField(default=0)
    visits = models.PositiveIntegerField(default=0)
    visitors = models.PositiveIntegerField(default=0)
    progress_rows = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=200, blank=True, help_text="the kind of error, never its data")

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} of a {self.subject_kind} ({self.status})"
