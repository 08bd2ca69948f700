"""Tasks: the asynchronous jobs behind generate and design previews (SPEC §2).

machine.py      every decision and status write: create/submit, poll, finalize, cancel, delete
transitions.py  the legal transitions and their one compare-and-set (the machine's writes)
store.py        SQL only: the poll statement, leases, reads, inserts, the cap, the feed
results.py      result audio: its key and URL, copying it from the worker into storage
rows.py         typed rows (TaskRow) and what a poll observed on top of them (Live, Polled)
reconciler.py   advances tasks nobody polls, through the machine's poll
"""

from vocalis.api.tasks import store
from vocalis.api.tasks.machine import Tasks
from vocalis.api.tasks.rows import Live, Polled, TaskRow

__all__ = ["Live", "Polled", "TaskRow", "Tasks", "store"]
