"""How the collector's processes run: the interpreter's GIL switch interval and garbage
collector thresholds (every served process, and each enrichment process), and the CPU priority
of enrichment processes (``--enrich-processes``).

The door's answers go first. While enrichment keeps up, the enrichment processes run at the
``SCHED_IDLE`` policy: they take only what the door leaves of the cores, and a beacon that
arrives wakes the door at once instead of waiting for a child's time slice. Once enrichment
falls behind (a lag of 5 s: :func:`collector.inbox.process.yields_cpu`), they run at the
collector's priority again, so a saturated door cannot starve them (bench/README.md, issue
17). Going back from ``SCHED_IDLE`` needs root, ``CAP_SYS_NICE`` or ``RLIMIT_NICE`` of 20
(systemd: ``LimitNICE=20``); a process that could not go back never leaves the collector's
priority (:func:`may_yield_cpu`).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import resource
import sys
from pathlib import Path

log = logging.getLogger("clicktrail.tuning")

# The writer's thread lets go of the GIL for each SQLite call and needs it back after, while the
# event loop enriches the next batch: at the default 5 ms, each hand-back kept the writer waiting
# that long (bench/README.md: the enricher's drain, 1,500 beacons/s at 5 ms, 2,000 at 0.5 ms).
GIL_SWITCH_INTERVAL_S = 0.0005
# The garbage collector's thresholds for its three generations. The structs an enrichment batch
# keeps alive until it is stored are not tracked (``gc=False``: Click, Event, the wire's
# structs), but what is left was still walked often enough at the default (700, 10, 10) to raise
# the door's p99 at half the sustainable rate from 11 ms to 16 ms (bench/README.md).
# The young generation keeps its default, so cycles of short-lived objects are freed as soon.
GC_THRESHOLDS = (700, 100, 100)

CAP_SYS_NICE = 23  # its bit in /proc/self/status's CapEff
NICE_RLIMIT_TO_LEAVE_IDLE = 20  # RLIMIT_NICE that lets a process back to nice 0


def tune_process() -> None:
    """This process's GIL switch interval and collector thresholds (above)."""
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    gc.set_threshold(*GC_THRESHOLDS)


def may_yield_cpu() -> bool:
    """Whether this process can run at ``SCHED_IDLE`` and come back to its priority (Linux
    only; root, ``CAP_SYS_NICE``, or ``RLIMIT_NICE`` of 20)."""
    if not hasattr(os, "SCHED_IDLE") or not Path("/proc/self/task").is_dir():
        return False
    if os.geteuid() == 0 or _has_sys_nice():
        return True
    soft, _ = resource.getrlimit(resource.RLIMIT_NICE)
    return soft == resource.RLIM_INFINITY or soft >= NICE_RLIMIT_TO_LEAVE_IDLE


def _has_sys_nice() -> bool:
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return False
    for line in status.splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) >> CAP_SYS_NICE & 1)
    return False


def run_in_background(background: bool) -> bool:
    """Every thread of this process at ``SCHED_IDLE`` (``background``) or back at the normal
    policy; threads started later inherit it from the thread that starts them. False when the
    system refused (logged)."""
    policy = os.SCHED_IDLE if background else os.SCHED_OTHER
    try:
        for thread in os.listdir("/proc/self/task"):
            with contextlib.suppress(ProcessLookupError):  # the thread has ended since
                os.sched_setscheduler(int(thread), policy, os.sched_param(0))
    except OSError as exc:
        log.warning("could not set the enrichment process's CPU priority: %s", exc)
        return False
    return True
