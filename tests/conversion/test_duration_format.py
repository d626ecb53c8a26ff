import pytest
from django.utils import translation

from conversion.templatetags.conversion_format import duration, duration_messages


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 s"), (9, "9 s"), (75, "1 min 15 s"), (3725, "1 h 2 min"), ("x", ""), (-5, "0 s")],
)
def test_durations_read_naturally(seconds, text):
    assert duration(seconds) == text


def test_durations_are_translated_for_pages_and_scripts():
    with translation.override("zh-hant"):
        assert duration(75) == "1 分 15 秒"
        assert duration_messages()["minutes"] == "%(minutes)s 分 %(seconds)s 秒"
