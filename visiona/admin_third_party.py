"""Django admin of third-party apps, as visionA shows it: the captions Django would
make from a column's method name (in English, which no catalogue translates) given
translated ones. Registered from their app configs (visiona/apps_third_party.py)."""

from __future__ import annotations

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group, Permission
from django.forms import ModelMultipleChoiceField
from django.utils.translation import gettext_lazy as _
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult


def _reregister(model: type, model_admin: type[admin.ModelAdmin]) -> None:
    """Our subclass of an app's admin in place of its own (registered by then: Django
    admin, first in INSTALLED_APPS, loads every admin module in its ready())."""
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)


class LockoutAttemptAdmin(AccessAttemptAdmin):
    @admin.display(description=_("Status"))
    def status(self, obj: AccessAttempt):
        return super().status(obj)


class BackgroundTaskAdmin(DBTaskResultAdmin):
    list_display = (
        "task_id",
        "task_label",
        "status",
        "enqueued_at",
        "started_at",
        "finished_at",
        "priority",
        "queue_name",
    )

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        fields = super().get_readonly_fields(request, obj)
        return ["task_id" if name == "id" else name for name in fields]

    @admin.display(description=_("ID"), ordering="id")
    def task_id(self, result: DBTaskResult) -> str:
        return str(result.id)

    @admin.display(description=_("traceback"))
    def formatted_traceback(self, obj: DBTaskResult) -> str:
        return super().formatted_traceback(obj)

    @admin.display(description=_("run after"))
    def display_run_after(self, obj: DBTaskResult):
        return super().display_run_after(obj)

    @admin.display(description=_("task"))
    def task_label(self, result: DBTaskResult) -> str:
        return result.task_name


# Django stores a permission's name in English ("Can add device"), once, as a row: the
# group form names the default four from the model's translated name instead.
PERMISSION_NAMES = {
    "add": _("Can add %(model)s"),
    "change": _("Can change %(model)s"),
    "delete": _("Can delete %(model)s"),
    "view": _("Can view %(model)s"),
}


def permission_label(permission: Permission) -> str:
    content_type = permission.content_type
    model = content_type.model_class()
    action = permission.codename.split("_", 1)[0]
    if model is None or permission.codename != f"{action}_{model._meta.model_name}":
        return str(permission)  # a permission of its own, or of a model now gone
    name = str(PERMISSION_NAMES[action]) if action in PERMISSION_NAMES else permission.name
    return " | ".join(
        (
            str(model._meta.app_config.verbose_name),
            str(model._meta.verbose_name),
            name % {"model": model._meta.verbose_name},
        )
    )


class TranslatedPermissions(ModelMultipleChoiceField):
    def label_from_instance(self, obj: Permission) -> str:
        return permission_label(obj)


class TranslatedGroupAdmin(GroupAdmin):
    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        if db_field.name == "permissions":
            kwargs["form_class"] = TranslatedPermissions
        return super().formfield_for_manytomany(db_field, request=request, **kwargs)


def register_group_admin() -> None:
    _reregister(Group, TranslatedGroupAdmin)


def register_lockout_admin() -> None:
    _reregister(AccessAttempt, LockoutAttemptAdmin)


def register_tasks_admin() -> None:
    _reregister(DBTaskResult, BackgroundTaskAdmin)
