"""``rollout … --wait`` prints the running phase's deadline as ``rollout show`` does
(to the second, in UTC), not the API's raw timestamp."""

from __future__ import annotations

import io

from visiona_client.visiona_cli import rollout
from visiona_client.visiona_cli.output import Output
from visiona_client.visiona_cli.waiting import Waiting

ROLLOUT = {
    "id": "r1",
    "state": "running",
    "counts": {"passed": 0, "failed": 0, "deploying": 1, "checking": 0, "offline": 1, "planned": 0},
    "phases": [
        {
            "number": 1,
            "state": "running",
            "deadline_at": "2026-12-07T19:16:29.814087Z",
            "counts": {"deploying": 1, "checking": 0, "offline": 1},
        }
    ],
}


def test_wait_prints_the_deadline_as_rollout_show_does(monkeypatch):
    err = io.StringIO()
    finished = {**ROLLOUT, "state": "completed", "phases": []}

    class OneAnswer:
        def get_json(self, path):
            return finished

    waiting = Waiting(Output(as_json=False, err=err), poll_seconds=0, timeout=None)
    rollout._follow(OneAnswer(), waiting, ROLLOUT)
    first = err.getvalue().splitlines()[0]
    # What the phase waits for (not the offline device: it no longer holds it up).
    assert first.endswith("phase 1 waits for 1 device under way (deadline 2026-12-07 19:16:29 UTC)")
