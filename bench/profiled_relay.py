"""``manage.py run_relay`` with a CPU profile of its event loop, switched by signals.

    python bench/profiled_relay.py --tunnel-port P --internal-port Q   (run_relay's arguments)

SIGUSR1 starts profiling the event loop's thread by its CPU time
(``time.thread_time``); SIGUSR2 stops and writes the statistics to
``$BENCH_PROFILE_OUT`` (``pstats.Stats(path)`` reads them). ``scale_bench.py
--profile-relay`` sends them around its steady-state window.
"""

from __future__ import annotations

import cProfile
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
_profile = cProfile.Profile(time.thread_time)


def _start(*_args) -> None:
    _profile.enable()


def _stop(*_args) -> None:
    _profile.disable()
    _profile.dump_stats(os.environ["BENCH_PROFILE_OUT"])


if __name__ == "__main__":
    signal.signal(signal.SIGUSR1, _start)
    signal.signal(signal.SIGUSR2, _stop)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "visiona.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["manage.py", "run_relay", *sys.argv[1:]])
