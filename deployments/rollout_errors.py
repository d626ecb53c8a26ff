"""The errors of groups, pins, rollouts and rollback; the API turns them into the envelope."""

from django.utils.translation import gettext_lazy as _

from visiona.errors import AppError


class GroupNotFound(AppError):
    status = 404
    code = "group_not_found"
    message = _("This group does not exist or is not yours.")


class GroupNameTaken(AppError):
    status = 409
    code = "group_name_taken"
    message = _("You already have a group with this name.")


class GroupEmpty(AppError):
    status = 400
    code = "group_empty"
    message = _("This group has no devices. Add devices to it first.")


class GroupEmptyConflict(GroupEmpty):
    """Rolling back a group with no devices: the group named in the path is in a state
    that refuses it, not the request (which is valid), so 409 (rollouts name the group
    in their body: 400 there)."""

    status = 409


class RolloutNotFound(AppError):
    status = 404
    code = "rollout_not_found"
    message = _("This rollout does not exist or is not yours.")


class RolloutInProgress(AppError):
    status = 409
    code = "rollout_in_progress"
    message = _(
        "This group already has a rollout under way. Wait for it to finish, or roll it back."
    )


class NoDeviceOfChip(AppError):
    status = 400
    code = "no_device_of_chip"
    message = _("No device of this group has a chip the model is built for. Nothing was started.")


class NoEligibleDevice(AppError):
    status = 400
    code = "no_eligible_devices"
    message = _(
        "Every device of this group that could take the model is pinned. Nothing was started."
    )


class SmokeRunInvalid(AppError):
    status = 400
    code = "smoke_run_invalid"
    message = _("The smoke run must be a completed run of this model. Nothing was started.")


class RolloutStateConflict(AppError):
    """The rollout is not in a state that allows this; ``message`` says which."""

    status = 409
    code = "rollout_state_conflict"
    message = _("The rollout cannot do this in its present state.")


class NothingToRetry(AppError):
    status = 409
    code = "nothing_to_retry"
    message = _("No device of this rollout failed: there is nothing to retry.")


class NothingToRollBack(AppError):
    status = 409
    code = "nothing_to_roll_back"
    message = _("This device has no earlier model to go back to.")


class RollbackInProgress(AppError):
    status = 409
    code = "rollback_in_progress"
    message = _("A rollback of this device is already under way.")
