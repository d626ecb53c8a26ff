"""The fleet's codes as the human lines say them; ``--json`` keeps the API's codes.

The words follow visionA's own (docs/deployments.md, "Rollouts" and "Rollback").
"""

from __future__ import annotations

# A phase the user resumed past after it failed; one a rollback stopped before it began.
PHASE_STATES = {"accepted": "accepted despite failures", "cancelled": "not started"}
# Where a rollback found the model it brought back (the deployment's ``restored_from``).
RESTORED_FROM = {
    "in_place": "its file still in place on the device",
    "kept_copy": "the device's kept copy",
    "download": "a fresh download",
}


def state_words(code: str) -> str:
    """A rollout's, device's or deployment's state: ``rolled_back`` -> "rolled back"."""
    return code.replace("_", " ")


def phase_state_words(code: str) -> str:
    return PHASE_STATES.get(code, state_words(code))


def restored_from_words(code: str) -> str:
    """Where a rollback's model came from, after "brought back from"."""
    return RESTORED_FROM.get(code, state_words(code))
