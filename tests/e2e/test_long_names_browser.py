"""Long names at laptop width (1280 px), in both languages: a 100-character token or
group name wraps inside its cell; the columns after it (scopes, expiry, Revoke; the
devices' count) stay on the page. They were pushed out of view before."""

from __future__ import annotations

import pytest

from deployments import group_services
from tests.e2e.test_phone_layout import OUT_OF_VIEW, SIDEWAYS_SCROLLERS
from tokens import services as token_services

pytestmark = [pytest.mark.browser, pytest.mark.live, pytest.mark.django_db(transaction=True)]

LONG = "n" * 100  # no place a line may break at


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_long_names_stay_in_their_cells(open_tab, live_server, alice, language):
    token_services.token_create(owner=alice, name=LONG, scopes=["read"], expires_in_days=30)
    group_services.group_create(user=alice, name=LONG, device_ids=[])
    tab = open_tab(viewport=(1280, 800), language=language)
    for name, path in (("tokens", "/tokens/"), ("groups", "/devices/groups/")):
        tab.goto(live_server.url + path)
        tab.shot(name)
        assert tab.evaluate(OUT_OF_VIEW) == [], name
        assert tab.evaluate(SIDEWAYS_SCROLLERS) == [], name
        assert tab.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
