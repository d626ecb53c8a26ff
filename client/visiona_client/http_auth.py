"""requests sessions that send the credentials they were given, and nothing else.

requests looks up ``~/.netrc`` (or ``$NETRC``) for any request without an ``auth`` of
its own and, when it names the host, replaces the request's ``Authorization`` header
with that login: a netrc entry for the visionA host (for curl, say) turned every call of
the agent and the CLI into a 401, and one for the models bucket's host would add a login
to a presigned URL (its own credential; S3 refuses a request that carries two). A
session auth that leaves the request as it is stops that lookup; proxies from the
environment (``HTTPS_PROXY``) still apply.
"""

from __future__ import annotations

import requests
from requests.auth import AuthBase


class HeadersAsGiven(AuthBase):
    """The request's own Authorization (or none); never one from ~/.netrc."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


def session_without_netrc() -> requests.Session:
    session = requests.Session()
    session.auth = HeadersAsGiven()
    return session
