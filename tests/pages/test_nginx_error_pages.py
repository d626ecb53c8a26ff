"""``manage.py write_error_pages``: the files nginx answers with, in the app's shapes."""

from __future__ import annotations

import json

from django.core.management import call_command
from django.utils import translation

from devices.errors import DeviceUnreachable


def test_every_status_and_every_registered_error_is_written_in_both_languages(tmp_path):
    call_command("write_error_pages", output=tmp_path, stdout=open("/dev/null", "w"))  # noqa: SIM115
    for language in ("en", "zh-hant"):
        for name in ("404", "502", "504", "device-unreachable"):
            assert (tmp_path / language / f"{name}.json").is_file(), (language, name)
            assert (tmp_path / language / f"{name}.html").is_file(), (language, name)


def test_an_unreachable_node_reads_as_the_app_says_it(tmp_path):
    call_command("write_error_pages", output=tmp_path, stdout=open("/dev/null", "w"))  # noqa: SIM115
    english = json.loads((tmp_path / "en" / "device-unreachable.json").read_text())["error"]
    chinese = json.loads((tmp_path / "zh-hant" / "device-unreachable.json").read_text())["error"]
    assert english["code"] == chinese["code"] == DeviceUnreachable.code
    with translation.override("en"):
        assert english["message"] == str(DeviceUnreachable.message)
    assert chinese["message"] != english["message"]
    assert english["request_id"] is None  # nginx fills it in
    page = (tmp_path / "en" / "device-unreachable.html").read_text()
    assert "502" in page and "The device did not answer" in page
    # The statuses' pages keep the status nginx sends, not their error type's.
    assert "502" in (tmp_path / "en" / "502.html").read_text()
