"""Fetching sources like a careful mirror client: parallel, failover, resume, verified.

The build step and the CLI call `fetch_sources`; `collect_sources` copies a fetched selection
into a flat directory for an air-gapped machine, which reads it back with
`FetchOptions(sources_dir=...)`.
"""

from rebuildx.fetch.export import collect_sources
from rebuildx.fetch.http import Limits, RetryPolicy, Timeouts
from rebuildx.fetch.plan import FileGroup, SourceJob, plan_fetch
from rebuildx.fetch.progress import BarProgress, LineProgress, NullProgress, Progress
from rebuildx.fetch.report import Attempt, FetchReport, FileResult, Outcome
from rebuildx.fetch.run import FetchOptions, fetch_sources

__all__ = [
    "Attempt", "BarProgress", "FetchOptions", "FetchReport", "FileGroup", "FileResult", "Limits",
    "LineProgress", "NullProgress", "Outcome", "Progress", "RetryPolicy", "SourceJob", "Timeouts",
    "collect_sources", "fetch_sources", "plan_fetch",
]
