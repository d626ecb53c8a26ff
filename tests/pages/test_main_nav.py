"""The top bar reaches every kind of page a signed-in user works with."""

import re

import pytest

pytestmark = pytest.mark.django_db


def nav_of(content: str) -> str:
    return re.search(r'<nav class="main-nav".*?</nav>', content, re.S).group(0)


def test_runs_are_in_the_top_bar(alice_client):
    nav = nav_of(alice_client.get("/").content.decode())

    assert '<a href="/runs/">Runs</a>' in nav


def test_the_runs_entry_is_current_on_the_runs_pages(alice_client):
    nav = nav_of(alice_client.get("/runs/").content.decode())

    assert '<a href="/runs/" aria-current="page">Runs</a>' in nav
    assert nav.count('aria-current="page"') == 1


def test_the_top_bar_speaks_chinese(alice_client):
    alice_client.cookies["django_language"] = "zh-hant"
    nav = nav_of(alice_client.get("/").content.decode())

    assert ">執行紀錄</a>" in nav
