"""glibc's allocator set up for a process that moves large buffers (the tunnel).

A relayed answer passes through the agent as 1 MiB blocks, each copied a few times
(the local API's read, the HTTP/2 frame, the WebSocket frame). glibc serves a block
of at least ``M_MMAP_THRESHOLD`` (128 KiB until its dynamic threshold moves) with
a fresh ``mmap`` and gives it back on ``free``; in a thread's own arena a freed
block at the top of the heap is given back too (``M_TRIM_THRESHOLD``). Either way
the next block of the same size page-faults in 256 new pages: measured with
``perf``, those faults were most of the agent's and much of the relay's CPU time on
a 100 MiB answer (bench/README.md). Fixed thresholds keep such blocks in the heap for reuse.

The agent (`visiona-agent run`) and the relay (`manage.py run_relay`, whose server
installs this distribution too) call it at start, and so does the `visiona` CLI:
requests-toolbelt's multipart encoder writes every 1 MiB block of an upload into a
buffer it has just truncated, and with the defaults that faulting made its CPU per
GiB 0.66 s instead of 0.14 s (bench/README.md).
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys

logger = logging.getLogger(__name__)

# mallopt(3) parameters, from glibc's <malloc.h>.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
# Blocks under this come from the heap: above the tunnel's largest buffers (2 MiB
# WebSocket messages, a few MiB of HTTP/2 output). glibc's own maximum is 32 MiB.
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024
# Free memory at the top of the heap kept for reuse before it is given back.
TRIM_THRESHOLD_BYTES = 64 * 1024 * 1024


def keep_large_blocks() -> bool:
    """Fix glibc's thresholds; False where there is no glibc or the user set them."""
    if not sys.platform.startswith("linux"):
        return False
    if any(name in os.environ for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")):
        return False  # the operator's own setting wins
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    done = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
    )
    logger.debug("allocator thresholds fixed: %s", done)
    return done
