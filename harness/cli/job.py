"""``hvsnap job ...``: async jobs (every change runs as one, as in CloudStack)."""

from __future__ import annotations

import click
from rich.text import Text

from harness.cli.client import PENDING, Api, pages
from harness.cli.common import JOB_STATUS, Listing, Output, card, command, group

job = group("job", "Async jobs: what ran, what is still pending", "hvsnap job list --pending")


@command(job, "list", "hvsnap job list --pending")
@click.option("--pending", is_flag=True, help="Only jobs that have not finished")
def job_list(api: Api, pending: bool) -> Listing:
    """List your jobs, newest first (the root admin sees every job)."""
    items = [j for j in pages(api, "listAsyncJobs", "asyncjobs") if not pending or j.get("jobstatus") == PENDING]
    return Listing("pending jobs" if pending else "jobs", items)


@command(job, "show", "hvsnap job show JOBID")
@click.argument("jobid")
def job_show(api: Api, jobid: str) -> Output:
    """Show a job: its status and, once finished, its result."""
    found = api.call("queryAsyncJobResult", jobid=jobid)
    status = int(found.get("jobstatus") or 0)
    shown = {**found, "jobstatus": f"{status} ({JOB_STATUS.get(status, '?')})"}
    result = found.get("jobresult") or {}
    inner = next((v for v in result.values() if isinstance(v, dict)), result) if isinstance(result, dict) else {}
    return Output(found, card(shown, list(shown)), [Text("\njobresult", style="bold"), card(inner)] if inner else [])
