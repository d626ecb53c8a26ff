"""Times in the user's own zone: the browser posts it once, the session keeps it, and
every page shows times in it, one format per language, with the zone named."""

from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.utils import timezone

from models_repo.choices import ModelSource
from models_repo.models import NefModel
from models_repo.services import model_create_from_stream
from tests.conversion.factories import make_job
from visiona.time_zone import SESSION_KEY, utc_offset_label, zone_named

pytestmark = pytest.mark.django_db

URL = "/i18n/time-zone/"
# 12:22 UTC is 20:22 in Taipei.
MOMENT = datetime(2026, 12, 1, 12, 22, tzinfo=UTC)


def page(client, path, language="en"):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def test_the_browsers_zone_is_kept_on_the_session(alice_client):
    response = alice_client.post(URL, {"time_zone": "Asia/Taipei"})
    assert response.status_code == 204
    assert alice_client.session[SESSION_KEY] == "Asia/Taipei"


@pytest.mark.parametrize(
    "name", ["", "Mars/Olympus_Mons", "../../etc/passwd", "/etc/localtime", "A" * 200, "UTC\0"]
)
def test_a_name_that_is_not_a_zone_is_refused_and_changes_nothing(alice_client, name):
    alice_client.post(URL, {"time_zone": "Asia/Taipei"})
    response = alice_client.post(URL, {"time_zone": name})
    assert response.status_code == 400
    assert alice_client.session[SESSION_KEY] == "Asia/Taipei"


def test_signed_out_visitors_cannot_set_one(client):
    response = client.post(URL, {"time_zone": "Asia/Taipei"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_pages_show_times_in_the_sessions_zone_with_the_zone_named(alice, alice_client):
    job = make_job(alice, status="completed", created_at=MOMENT, finished_at=MOMENT)
    before = page(alice_client, "/conversions/")
    # Before the browser said its zone, the note names none (it would be a guess).
    assert "1 Dec 2026, 12:22<" in before and "Times in" not in before
    alice_client.post(URL, {"time_zone": "Asia/Taipei"})
    history = page(alice_client, "/conversions/")
    assert "1 Dec 2026, 20:22<" in history and ", 12:22" not in history
    assert 'datetime="2026-12-01T12:22:00+00:00"' in history  # machine-readable, in UTC
    assert 'title="Asia/Taipei (UTC+8)"' in history
    assert "Times in Asia/Taipei (UTC+8)" in history
    job_page = page(alice_client, f"/convert/{job.job_id}/")
    assert '1 Dec 2026, 20:22 <span class="time-zone">UTC+8</span>' in job_page


def test_one_format_per_language_on_every_page(alice, alice_client):
    make_job(alice, status="completed", created_at=MOMENT, finished_at=MOMENT)
    model = model_create_from_stream(
        owner=alice,
        name="detector",
        chips=["KL720"],
        source=ModelSource.UPLOADED,
        filename="detector.nef",
        chunks=[b"nef" * 100],
    )
    NefModel.objects.filter(pk=model.pk).update(created_at=MOMENT, updated_at=MOMENT)
    alice_client.post(URL, {"time_zone": "Asia/Taipei"})
    for language, shown in (("en", "1 Dec 2026, 20:22"), ("zh-hant", "2026年12月1日 20:22")):
        for path in ("/conversions/", "/models/", f"/models/{model.pk}/"):
            assert shown in page(alice_client, path, language), (language, path)


def test_the_browser_is_told_the_known_zone_and_where_to_send_its_own(alice_client):
    html = page(alice_client, "/")
    assert 'data-time-zone=""' in html and f'data-time-zone-url="{URL}"' in html
    assert "js/time-zone.js" in html
    alice_client.post(URL, {"time_zone": "Asia/Taipei"})
    assert 'data-time-zone="Asia/Taipei"' in page(alice_client, "/")


def test_a_zone_is_active_only_for_its_own_request(alice_client):
    alice_client.post(URL, {"time_zone": "Asia/Taipei"})
    page(alice_client, "/")
    assert timezone.get_current_timezone_name() == settings.TIME_ZONE


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("UTC", "UTC"),
        ("Asia/Taipei", "UTC+8"),
        ("Asia/Kolkata", "UTC+5:30"),
        ("America/St_Johns", "UTC-3:30"),
    ],
)
def test_offsets_read_the_same_in_any_language(name, label):
    assert utc_offset_label(MOMENT, zone_named(name)) == label


def test_the_zone_sent_with_the_password_is_the_first_pages(alice, client, password):
    signed_in = client.post(
        "/accounts/login/",
        {"username": alice.username, "password": password, "time_zone": "Asia/Taipei"},
    )
    assert signed_in.status_code == 302
    assert client.session[SESSION_KEY] == "Asia/Taipei"
    assert "Times in Asia/Taipei (UTC+8)" in page(client, "/")


def test_an_unknown_zone_with_the_password_is_ignored(alice, client, password):
    client.post(
        "/accounts/login/",
        {"username": alice.username, "password": password, "time_zone": "Mars/Olympus"},
    )
    assert SESSION_KEY not in client.session
    assert "Times in" not in page(client, "/")
