from django.db import DatabaseError
from django.utils.functional import SimpleLazyObject

from conversion import selectors


def active_conversion(request) -> dict:
    """The signed-in user's unfinished job, for the banner on every page.

    From the database only (no converter call) and only when a template asks.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def find():
        try:
            return selectors.jobs_unfinished_for_user(user=user).order_by("-created_at").first()
        except DatabaseError:
            return None  # the error page reporting the outage must still render

    return {"active_conversion": SimpleLazyObject(find)}
