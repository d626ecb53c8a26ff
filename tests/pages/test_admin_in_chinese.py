"""Django admin in Traditional Chinese: Django's own wording, and our apps' names translated."""

import re

import pytest
from django.apps import apps
from django.conf import settings
from django.utils import translation

pytestmark = pytest.mark.django_db

OUR_APPS = ("visiona", "conversion", "models_repo", "devices", "relay", "sandbox")


def chinese(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hant"
    return client


def test_every_app_of_ours_has_a_translated_name():
    for label in OUR_APPS:
        config = apps.get_app_config(label)
        with translation.override("zh-hant"):
            translated = str(config.verbose_name)
        assert translated != str(config.verbose_name), label
        assert re.search(r"[\u4e00-\u9fff]", translated), label


def test_the_admin_index_shows_translated_app_names_and_djangos_change(admin_client):
    page = chinese(admin_client).get("/admin/").content.decode()
    for raw in ("CONVERSION", "DEVICES", "MODELS_REPO", ">Conversion<", ">Models_Repo<"):
        assert raw not in page
    for name in ("轉換", "裝置", "我的模型"):
        assert f">{name}</a>" in page  # the app sections' captions link to the app
    assert "修改" in page  # Django admin's "Change" link
    assert "切換" not in page.split('id="content"')[1]  # our language switch's word, not admin's


def test_the_language_switch_keeps_its_own_word(alice_client):
    page = chinese(alice_client).get("/").content.decode()
    assert "切換</button>" in page
