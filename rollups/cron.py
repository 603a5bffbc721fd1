"""Schedule of periodic work, read by `manage.py rqcron rollups.cron` (started by `manage.py up`).

Each entry enqueues a job on the `default` queue, which the worker started by `up` runs.
Rollups are updated as events are stored, so the nightly rebuild only catches up with what that
cannot see (a late earlier visit relabelling later ones as returning); the purge applies
EVENTS_RETENTION_DAYS.
"""

from rq import cron

from rollups import jobs
from the_eye import queues

cron.register(jobs.rebuild_rollups, "default", cron="17 3 * * *", job_timeout=4 * 3600, name="rebuild-rollups")
cron.register(jobs.purge_events, "default", cron="47 2 * * *", job_timeout=3600, name="purge-events")

# A second line of defence behind the scheduler process's own reaper: jobs a dead worker took
# and never finished go back on their queue (the_eye/queues.py). Cheap when there are none.
cron.register(queues.reap_all, "default", interval=60, job_timeout=60, result_ttl=600, name="reap-jobs")
