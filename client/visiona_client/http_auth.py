"""requests sessions that send visionA the token they were given, and nothing else.

requests looks up ``~/.netrc`` (or ``$NETRC``) for any request without an ``auth`` of
its own and, when it names the host, replaces the request's ``Authorization`` header
with that login, our ``Bearer`` token included: a netrc entry for the visionA host
(for curl, say) turned every call of the agent and the CLI into a 401. A session auth
that leaves the request as it is stops that lookup; proxies from the environment
(``HTTPS_PROXY``) still apply.
"""

from __future__ import annotations

import requests
from requests.auth import AuthBase


class HeadersAsGiven(AuthBase):
    """The request's own Authorization (or none); never one from ~/.netrc."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


def token_session() -> requests.Session:
    session = requests.Session()
    session.auth = HeadersAsGiven()
    return session
