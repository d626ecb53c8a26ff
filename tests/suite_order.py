"""The order the test files start in: the slowest first.

``make test`` runs whole files in each of its processes (``--dist loadfile``), handed
out in the order given here. A file that takes minutes and starts when the others are
nearly done is the run's tail, one process busy and the other idle: the OpenAPI
conformance passes (minutes each under load) were that tail. So the files that take
longest (each file's time in a whole run's ``--junitxml`` report) start first, and the
many short files fill in behind them, balancing the end.

pytest-xdist would otherwise reorder the files itself, by how many tests each holds
(``--loadscope-reorder``, its default), which put the two-test OpenAPI file near the end:
``pytest_configure`` (tests/conftest.py) turns that off.

A file missing from SLOWEST_FIRST still runs, in the collection's order after these;
one listed here that no longer exists fails tests/test_suite_order.py.
"""

from __future__ import annotations

from collections.abc import Sequence

# Slowest first: every file that took 15 s or more (setups included) in a whole run of
# ``make test`` on a 2-core machine with other work on it (load 5-9).
SLOWEST_FIRST = (
    "tests/test_openapi_conformance_signed_in.py",
    "tests/test_openapi_conformance_signed_out.py",
    "tests/relay/test_liveness_live.py",
    "tests/deploy/test_compose_stack.py",
    "tests/deploy/test_loopback_stack.py",
    "tests/test_make_run.py",
    "tests/e2e/test_sample_browser.py",
    "tests/e2e/test_deploy_failure_browser.py",
    "tests/e2e/test_first_minutes_browser.py",
    "tests/client/test_agent_live.py",
    "tests/e2e/test_phone_layout.py",
    "tests/e2e/test_deploy_push_live.py",
    "tests/test_malformed_requests.py",
    "tests/relay/test_offload_nginx.py",
    "tests/relay/test_in_process.py",
    "tests/e2e/test_rollout_fleet_live.py",
    "tests/relay/test_tunnel.py",
    "tests/pages/test_first_pages_browser.py",
    "tests/relay/test_tunnel_streams.py",
    "tests/relay/test_tunnel_lifecycle.py",
    "tests/test_healthz.py",
    "tests/e2e/test_browser.py",
    "tests/e2e/test_deploy_browser.py",
    "tests/relay/test_two_webs.py",
    "tests/e2e/test_rollout_deadline_browser.py",
    "tests/e2e/test_readme_journeys.py",
    "tests/e2e/test_device_state_browser.py",
    "tests/e2e/test_run_browser.py",
    "tests/e2e/test_model_upload_checks_browser.py",
    "tests/e2e/test_device_pages_browser.py",
    "tests/e2e/test_tunnel_web.py",
    "tests/test_sessions.py",
    "tests/e2e/test_run_live.py",
    "tests/e2e/test_rollout_browser.py",
    "tests/relay/test_two_nodes.py",
    "tests/e2e/test_upload_progress_browser.py",
)


def file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def slowest_first(nodeids: Sequence[str], slowest: Sequence[str] = SLOWEST_FIRST) -> list[int]:
    """The indexes of ``nodeids`` in run order: the listed files' tests first, in the
    list's order, then the others as collected (a stable sort: within a file, as
    collected)."""
    rank = {path: position for position, path in enumerate(slowest)}
    unlisted = len(slowest)
    return sorted(
        range(len(nodeids)), key=lambda index: rank.get(file_of(nodeids[index]), unlisted)
    )
