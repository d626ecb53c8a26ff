"""Signing in: OpenID Connect through Member Center, passwords, the lockout, the
authentication cache."""

from datetime import timedelta

from visiona.env import env_bool, env_int, env_str

# --- Authentication -------------------------------------------------------
AUTH_USER_MODEL = "visiona.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

MC_ISSUER = env_str("MC_ISSUER").rstrip("/")
OIDC_OP_ISSUER = (env_str("OIDC_OP_ISSUER") or MC_ISSUER).rstrip("/")
OIDC_RP_CLIENT_ID = env_str("OIDC_RP_CLIENT_ID")
# Empty for a public client: the token request then carries no client_secret.
OIDC_RP_CLIENT_SECRET = env_str("OIDC_RP_CLIENT_SECRET")
OIDC_ENABLED = bool(OIDC_OP_ISSUER and OIDC_RP_CLIENT_ID)
OIDC_RP_SCOPES = env_str("OIDC_RP_SCOPES", "openid email profile")
OIDC_RP_SIGN_ALGO = env_str("OIDC_RP_SIGN_ALGO", "RS256")
# Endpoints come from the issuer's discovery document unless set here.
OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("OIDC_OP_AUTHORIZATION_ENDPOINT")
OIDC_OP_TOKEN_ENDPOINT = env_str("OIDC_OP_TOKEN_ENDPOINT")
OIDC_OP_USER_ENDPOINT = env_str("OIDC_OP_USER_ENDPOINT")
OIDC_OP_JWKS_ENDPOINT = env_str("OIDC_OP_JWKS_ENDPOINT")
OIDC_OP_END_SESSION_ENDPOINT = env_str("OIDC_OP_END_SESSION_ENDPOINT")
OIDC_USE_PKCE = True
OIDC_PKCE_CODE_CHALLENGE_METHOD = "S256"
OIDC_USE_NONCE = True
OIDC_STORE_ID_TOKEN = True  # sent back as id_token_hint at sign-out
OIDC_VERIFY_KID = env_bool("OIDC_VERIFY_KID", True)
OIDC_TIMEOUT = 10
OIDC_OP_LOGOUT_URL_METHOD = "visiona.auth.oidc.provider_logout_url"
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_authentication_callback"
LOGIN_REDIRECT_URL_FAILURE = "/accounts/login/?failed=1"

AUTHENTICATION_BACKENDS = [
    # First: refuses every sign-in of a locked-out account or client before the others run.
    "axes.backends.AxesStandaloneBackend",
    "visiona.auth.backends.MemberCenterBackend",
    "visiona.auth.backends.PasswordBackend",
]

# Sign-in lockout (django-axes): this many failures for one account from one client
# address, or from one client address (over any accounts), lock that address out for
# the cool-off, counted from the last failure. Never per account alone, so nobody can
# lock a user out from another address by guessing. Existing and unknown accounts are
# treated alike.
AXES_FAILURE_LIMIT = env_int("SIGN_IN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("SIGN_IN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = "visiona.auth.lockout.lockout_parameters"
# The same client address as every other limit: X-Forwarded-For only from TRUSTED_PROXIES.
AXES_CLIENT_IP_CALLABLE = "visiona.client_address.client_address"
AXES_LOCKOUT_CALLABLE = "visiona.auth.lockout.lockout_response"
# Off: axes' reset deletes the client's counter too, so an attacker signing in to
# their own account between guesses would never be locked out. Failures expire instead.
AXES_RESET_ON_SUCCESS = False
# Attempts during a lockout neither count nor extend it: it ends when the page says.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Only failures are kept (and dropped after the cool-off), not a row per sign-in forever.
AXES_DISABLE_ACCESS_LOG = True

# Seconds each process remembers a signed-in user's row, and a personal token's, instead
# of reading them on every request (visiona/auth/user_cache.py): a deactivated account or
# a revoked token stops working everywhere within this time (at once in the process that
# made the change). 0: read them on every request.
AUTH_CACHE_SECONDS = env_int("AUTH_CACHE_SECONDS", 5, minimum=0)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
