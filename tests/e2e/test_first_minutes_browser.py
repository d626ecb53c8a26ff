"""What a user meets in the first minutes, in Chromium at 360 and 1280 px, in English and
Traditional Chinese: the first page after sign-in already names the browser's zone,
the user menu closes on Escape, the current page is marked for screen readers, a new
API token's secret is copied whole and wraps evenly, Revoke asks first, and the layout
nits stay fixed (the Home button apart from its link, the chip cards aligned)."""

from __future__ import annotations

import pytest

from tokens.models import PersonalToken

pytestmark = [pytest.mark.browser, pytest.mark.live, pytest.mark.django_db(transaction=True)]

WIDTHS = [(360, 740), (1280, 800)]
LANGUAGES = ["en", "zh-hant"]
ZONE_NOTE = {"en": "Times in Asia/Taipei (UTC+8)", "zh-hant": "Asia/Taipei"}


def fits(tab) -> bool:
    return tab.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


@pytest.mark.parametrize("viewport", WIDTHS, ids=["360", "1280"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_first_page_names_the_zone_and_the_menu_behaves(open_tab, language, viewport):
    tab = open_tab(timezone_id="Asia/Taipei", language=language, viewport=viewport)
    # Straight after sign-in, with no reload: the zone came with the password.
    assert ZONE_NOTE[language] in tab.inner_text("footer")
    assert "UTC<" not in tab.content() and "Times in UTC" not in tab.inner_text("footer")
    assert tab.get_attribute(".main-nav a[href='/']", "aria-current") == "page"
    tab.shot("home")

    menu = tab.locator("#user-menu")
    tab.click("#user-menu summary")
    assert menu.get_attribute("open") is not None
    tab.shot("menu-open")
    tab.keyboard.press("Escape")
    assert menu.get_attribute("open") is None
    assert tab.evaluate("document.activeElement.tagName") == "SUMMARY"
    tab.click("#user-menu summary")
    tab.mouse.click(5, viewport[1] - 5)  # a click elsewhere closes it too
    assert menu.get_attribute("open") is None

    # Home: the Convert button keeps apart from the history link beside it.
    button = tab.locator(".card .form-actions .button-primary").bounding_box()
    link = tab.locator(".card .form-actions a:not(.button)").bounding_box()
    same_line = abs(button["y"] - link["y"]) < button["height"]
    assert (link["x"] - (button["x"] + button["width"]) >= 8) if same_line else True
    assert fits(tab)


@pytest.mark.parametrize("viewport", WIDTHS, ids=["360", "1280"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_new_token_is_copied_whole_and_revoke_asks_first(
    open_tab, live_server, language, viewport
):
    tab = open_tab(language=language, viewport=viewport)
    tab.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    tab.goto(f"{live_server.url}/tokens/")
    assert tab.get_attribute("#user-menu a[href='/tokens/']", "aria-current") == "page"
    tab.fill("#id_name", "筆電" if language == "zh-hant" else "laptop")
    tab.check("input[name=scopes][value=deploy]")
    tab.click("main form button[type=submit]")
    secret = tab.inner_text("#issued-token")
    assert secret.startswith("vap_")
    style = tab.eval_on_selector(".secret pre", "el => getComputedStyle(el).wordBreak")
    assert style == "break-all"
    tab.shot("token-issued")
    assert fits(tab)
    tab.click("button[data-copy=issued-token]")
    assert tab.evaluate("navigator.clipboard.readText()") == secret

    # The list stacks on a phone: Revoke is on screen, no sideways scroll.
    revoke = tab.locator("main table a.button-danger").first
    box = revoke.bounding_box()
    assert box["x"] + box["width"] <= viewport[0]
    assert fits(tab)
    revoke.click()
    tab.wait_for_url("**/revoke/")
    tab.shot("revoke-confirm")
    assert PersonalToken.objects.get().revoked_at is None  # asked, not done
    tab.click("main form button[type=submit]")
    tab.wait_for_url("**/tokens/")
    assert PersonalToken.objects.get().revoked_at is not None
    tab.shot("token-revoked")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_chip_cards_line_up(open_tab, live_server, sandbox, language):
    tab = open_tab(language=language, viewport=(1280, 800))
    tab.goto(f"{live_server.url}/convert/")
    tops = tab.eval_on_selector_all(
        ".chip-choice input", "els => els.map(el => Math.round(el.getBoundingClientRect().top))"
    )
    assert len(tops) == 5 and len(set(tops)) == 1, tops
    tab.shot("chips")
