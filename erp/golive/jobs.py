"""Imports run as jobs (``import.<kind>``): the API queues them, the CLI runs them in its
own process; either way progress and row errors are on the job (docs/jobs.md)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from erp.golive.framework import execute_import
from erp.golive.kinds import KINDS
from erp.jobs.runner import JobContext, job_kind

JOB_PREFIX = "import."


def job_kind_name(kind: str) -> str:
    return JOB_PREFIX + kind


def run_import_job(context: JobContext) -> dict[str, Any]:
    """Run the import a job describes: params ``kind``, ``path``, ``file_name``, ``dry_run``
    (``delete_after``: the file is an upload of ours, removed once read)."""
    params = context.params
    kind = KINDS[params["kind"]]
    path = Path(params["path"])
    try:
        with context.session_factory() as session:
            outcome = execute_import(
                session, context.actor, kind, path, file_name=params.get("file_name") or path.name,
                company_id=context.company_id, dry_run=bool(params.get("dry_run")), progress=context.progress,
                job_id=context.job_id, settings=context.settings,
                go_live_date=dt.date.fromisoformat(params["go_live_date"]) if params.get("go_live_date") else None)
        return outcome.as_result()
    finally:
        if params.get("delete_after"):
            path.unlink(missing_ok=True)


for _name in KINDS:
    job_kind(job_kind_name(_name))(run_import_job)
