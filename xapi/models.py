"""xAPI statements as an LRS keeps them: the full JSON, plus the columns its queries filter on.

Rows are created only by `xapi.statements.store` (the one write path for statements).
"""

from __future__ import annotations

import uuid

from django.db import models

from events.models import Site


class Statement(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="xapi_statements")
    statement = models.JSONField(help_text="The statement as stored (with id, stored, timestamp, authority, version).")
    agent = models.CharField(max_length=600, blank=True, help_text="The actor's identifier, e.g. mbox:mailto:a@b.org")
    verb = models.CharField(max_length=2048)
    activity = models.CharField(max_length=2048, blank=True, help_text="The object's id when it is an Activity")
    registration = models.UUIDField(null=True, blank=True)
    timestamp = models.DateTimeField()
    stored = models.DateTimeField()
    voided = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["site", "stored"], name="xapi_statement_site_stored")]

    def __str__(self) -> str:
        return f"{self.agent} {self.verb} {self.activity}"


class StateDocument(models.Model):
    """A document an activity keeps for one learner (the State resource), e.g. a player's bookmark."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="xapi_states")
    activity = models.CharField(max_length=2048)
    agent = models.CharField(max_length=600)
    registration = models.CharField(max_length=36, blank=True, help_text="A UUID, or empty for none")
    state_id = models.CharField(max_length=255)
    content = models.BinaryField()
    content_type = models.CharField(max_length=255, default="application/octet-stream")
    etag = models.CharField(max_length=64)
    updated = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["site", "activity", "agent", "registration", "state_id"], name="xapi_one_state_document"
            )
        ]

    def __str__(self) -> str:
        return f"{self.state_id} of {self.agent} in {self.activity}"
