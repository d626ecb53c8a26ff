"""What the loopback stack asks the app, run in the app's own process
(``manage.py shell -c``): its limits and folders, new users' sessions and tokens."""

# The app's own limits and folders, asked of the app (its settings, in its process).
FACTS = """
import json
from django.conf import settings
from conversion import limits
models = settings.STORAGES["models"].get("OPTIONS", {}).get("location") or ""
print(json.dumps({
    "models_root": str(models),
    "conversion_upload_limit": limits.max_upload_bytes(),
    "models_upload_limit": settings.MODELS_MAX_UPLOAD_BYTES + 1024 * 1024,
    "relay_body_limit": settings.RELAY_MAX_BODY_BYTES,
    "runs_upload_limit": getattr(settings, "RUNS_MAX_TOTAL_BYTES", 0) + 1024 * 1024,
    "reference_upload_limit": getattr(settings, "MODELS_MAX_REFERENCE_BYTES", 0) + 1024 * 1024,
}))
"""


SESSIONS = """
import os, time
from importlib import import_module
from django.conf import settings
from django.contrib.auth import get_user_model
from visiona.sessions import start_session_clock
Store = import_module(settings.SESSION_ENGINE).SessionStore
for name in os.environ["STACK_USERNAMES"].split():
    user, _ = get_user_model().objects.get_or_create(
        username=name, defaults={"oidc_sub": "sub-" + name}
    )
    session = Store()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "visiona.auth.backends.PasswordBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    start_session_clock(session, time.time())
    session.create()
    print(session.session_key)
"""

TOKENS = """
import os
from django.contrib.auth import get_user_model
from tokens.services import token_create
for name in os.environ["STACK_USERNAMES"].split():
    user, _ = get_user_model().objects.get_or_create(
        username=name, defaults={"oidc_sub": "sub-" + name}
    )
    issued = token_create(owner=user, name="bench", scopes="SCOPES".split(), expires_in_days=7)
    print(issued.secret)
"""
