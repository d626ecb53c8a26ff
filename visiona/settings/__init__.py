"""Settings for visionA Cloud.

Every value comes from the environment (see .env.example) with a default that
is safe: a fresh checkout runs on SQLite and a local-memory cache, and with
DEBUG off the app refuses to start without a real SECRET_KEY and ALLOWED_HOSTS.

One module per concern, read in this order (a later one may use an earlier one's
values): ``core`` (paths, the data folder, secrets, apps, middleware, database, cache
and sessions), ``auth`` (sign-in), ``api`` (DRF, the OpenAPI document), ``services``
(the upstreams, the sandbox, streamed uploads, My models), ``devices`` (devices, the
tunnel relay, the background worker) and ``web`` (languages, static and stored files,
security, logging). docs/configuration.md lists every variable.
"""

from visiona.settings.api import *  # noqa: F403
from visiona.settings.auth import *  # noqa: F403
from visiona.settings.core import *  # noqa: F403
from visiona.settings.devices import *  # noqa: F403
from visiona.settings.services import *  # noqa: F403
from visiona.settings.web import *  # noqa: F403
