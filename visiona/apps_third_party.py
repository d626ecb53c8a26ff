"""Third-party apps as visionA presents them: django-axes' section in Django admin
under a name people read ("Sign-in lockout"), the tasks framework's database backend
as "Background tasks", both translated like the rest.

Neither ships a Traditional Chinese catalogue: the names they show in admin are
listed below, so `make messages` extracts them into our catalogue, which Django reads
before any app's (LOCALE_PATHS). Never called: gettext_noop only marks them.
"""

from __future__ import annotations

from axes.apps import AppConfig as AxesAppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, pgettext_lazy
from django_tasks_db.apps import TasksAppConfig


class SignInLockoutConfig(AxesAppConfig):
    verbose_name = _("Sign-in lockout")

    def ready(self) -> None:
        super().ready()
        from visiona import admin_third_party  # models load only once apps are ready

        admin_third_party.register_lockout_admin()


class BackgroundTasksConfig(TasksAppConfig):
    # Lazy, as Django takes an app's name (the backport types it as a plain str).
    verbose_name = _("Background tasks")  # type: ignore[assignment]

    def ready(self) -> None:
        super().ready()
        from visiona import admin_third_party

        admin_third_party.register_tasks_admin()


AXES_ADMIN_STRINGS = (
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
    gettext_noop("access attempt expiration"),
    gettext_noop("access attempt expirations"),
    gettext_noop("User Agent"),
    gettext_noop("IP Address"),
    gettext_noop("HTTP Accept"),
    gettext_noop("Path"),
    gettext_noop("Attempt Time"),
    gettext_noop("Access lock out"),
    gettext_noop("GET Data"),
    gettext_noop("POST Data"),
    gettext_noop("Failed Logins"),
    gettext_noop("Access Attempt"),
    gettext_noop("Expires At"),
    gettext_noop("The time when access attempt expires and is no longer valid."),
    gettext_noop("Logout Time"),
    gettext_noop("Session key hash (sha256)"),
    gettext_noop("Locked Out"),
    gettext_noop("Form Data"),
    gettext_noop("Meta Data"),
    gettext_noop("Clean up expired attempts"),
    gettext_noop("Not set"),
    gettext_noop("Attempt Remaining"),
)

# django.contrib.sessions' names, which Django's own catalogue leaves in English.
SESSIONS_ADMIN_STRINGS = (gettext_noop("Sessions"), gettext_noop("session"))

TASKS_ADMIN_STRINGS = (
    gettext_noop("Task Result"),
    gettext_noop("Task Results"),
    gettext_noop("status"),
    gettext_noop("enqueued at"),
    gettext_noop("started at"),
    gettext_noop("finished at"),
    gettext_noop("args kwargs"),
    gettext_noop("priority"),
    gettext_noop("task path"),
    gettext_noop("worker id"),
    gettext_noop("queue name"),
    gettext_noop("backend name"),
    gettext_noop("run after"),
    gettext_noop("return value"),
    gettext_noop("exception class path"),
    gettext_noop("traceback"),
    # Its states, in the context it gives them (lazy: never evaluated here).
    pgettext_lazy("Task", "Ready"),
    pgettext_lazy("Task", "Running"),
    pgettext_lazy("Task", "Failed"),
    pgettext_lazy("Task", "Successful"),
)
