"""The pages' browser tests drive Chromium with the e2e suite's fixtures (a signed-in
tab, the sandbox as upstreams), shared rather than copied."""

from tests.e2e.conftest import browser, open_tab, sandbox  # noqa: F401
