"""Schedule of periodic work, read by `manage.py rqcron rollups.cron` (started by `manage.py up`).

Each entry enqueues a job on the `default` queue, which the worker started by `up` runs.
Rollups are updated as events are stored, so the nightly rebuild only catches up with what that
cannot see (a late earlier visit relabelling later ones as returning); the purge applies
EVENTS_RETENTION_DAYS.
"""

from rq import cron

from rollups import jobs

cron.register(jobs.rebuild_rollups, "default", cron="17 3 * * *", job_timeout=4 * 3600, name="rebuild-rollups")
cron.register(jobs.purge_events, "default", cron="47 2 * * *", job_timeout=3600, name="purge-events")
