"""Home promises what exists: deploying a saved model to devices, from the model's page."""

import pytest

pytestmark = pytest.mark.django_db


def test_home_says_models_deploy_to_devices(alice_client):
    content = alice_client.get("/").content.decode()
    assert "deploy it to your paired devices" in content


def test_home_says_it_in_chinese(alice_client):
    alice_client.cookies["django_language"] = "zh-hant"
    content = alice_client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hant").content.decode()
    assert "部署到已配對的裝置" in content


def test_home_leads_to_runs_in_both_languages(alice_client):
    content = alice_client.get("/").content.decode()
    assert "compare it with the original ONNX" in content
    assert '<a class="button" href="/runs/">See runs</a>' in content
    alice_client.cookies["django_language"] = "zh-hant"
    content = alice_client.get("/").content.decode()
    assert "與原始 ONNX 比較" in content and ">查看執行紀錄</a>" in content
