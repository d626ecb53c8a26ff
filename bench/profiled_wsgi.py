"""visionA's WSGI application under cProfile, for profiling one gunicorn worker.

Run it with one worker and one thread (``-w 1 --threads 1``): every GET request
(``BENCH_PROFILE_METHOD`` changes the method) is profiled by its CPU time
(``time.thread_time``), and the statistics are written to ``$BENCH_PROFILE_OUT``
every 100 of them (``BENCH_PROFILE_EVERY``); ``pstats.Stats(path)`` reads them.
"""

from __future__ import annotations

import cProfile
import os
import time

from visiona.wsgi import application as _application

# CPU time of this thread: waiting for the database or the converter is not counted.
_profile = cProfile.Profile(time.thread_time)
_count = 0


def application(environ, start_response):
    global _count
    if environ.get("REQUEST_METHOD") != os.environ.get("BENCH_PROFILE_METHOD", "GET"):
        return _application(environ, start_response)
    _profile.enable()
    try:
        body = _application(environ, start_response)
        data = b"".join(body)
        if hasattr(body, "close"):
            body.close()
    finally:
        _profile.disable()
    _count += 1
    if _count % int(os.environ.get("BENCH_PROFILE_EVERY", "100")) == 0:
        _profile.dump_stats(os.environ["BENCH_PROFILE_OUT"])
    return [data]
