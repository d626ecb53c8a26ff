"""Owner, another user and an anonymous visitor on every My models page and endpoint.

The owner gets in; another user gets 404 exactly as for an unknown model and
changes nothing; anonymous visitors are sent to sign in (pages) or get the 401
envelope (API).
"""

import pytest

from models_repo.models import NefModel

pytestmark = pytest.mark.django_db


@pytest.fixture
def model(alice, make_model):
    return make_model(alice, "Detector", chips=["KL720"])


@pytest.fixture
def urls(model):
    return {
        "detail_page": f"/models/{model.pk}/",
        "edit_page": f"/models/{model.pk}/edit/",
        "delete_page": f"/models/{model.pk}/delete/",
        "download_page": f"/models/{model.pk}/download/",
        "detail_api": f"/api/models/{model.pk}",
        "download_api": f"/api/models/{model.pk}/download",
    }


# (url key, method, data, status for the owner)
OWNED = [
    ("detail_page", "get", None, 200),
    ("edit_page", "get", None, 200),
    ("edit_page", "post", {"name": "New", "chips": ["KL520"]}, 302),
    ("delete_page", "get", None, 200),
    ("delete_page", "post", None, 302),
    ("download_page", "get", None, 200),
    ("detail_api", "get", None, 200),
    ("detail_api", "patch", {"name": "New"}, 200),
    ("detail_api", "delete", None, 204),
    ("download_api", "get", None, 200),
]


def _call(client, method, url, data):
    if method == "patch":
        return client.patch(url, data, content_type="application/json")
    return getattr(client, method)(url, data) if data else getattr(client, method)(url)


def _unchanged(model) -> bool:
    model.refresh_from_db()
    return (model.name, model.deleted_at, model.chips) == ("Detector", None, ["KL720"])


@pytest.mark.parametrize(("key", "method", "data", "status"), OWNED)
def test_the_owner_gets_in(alice_client, urls, key, method, data, status):
    assert _call(alice_client, method, urls[key], data).status_code == status


@pytest.mark.parametrize(("key", "method", "data", "status"), OWNED)
def test_another_user_gets_404_like_an_unknown_model(
    bob_client, urls, model, key, method, data, status
):
    response = _call(bob_client, method, urls[key], data)
    unknown = _call(bob_client, method, urls[key].replace(str(model.pk), "999999"), data)
    assert response.status_code == unknown.status_code == 404
    if key.endswith("_api"):
        theirs, missing = response.json()["error"], unknown.json()["error"]
        assert theirs["code"] == missing["code"] == "model_not_found"
        assert theirs["message"] == missing["message"]
    assert _unchanged(model)


@pytest.mark.parametrize(("key", "method", "data", "status"), OWNED)
def test_anonymous_visitors_must_sign_in(client, urls, model, key, method, data, status):
    response = _call(client, method, urls[key], data)
    if key.endswith("_api"):
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthenticated"
    else:
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")
    assert _unchanged(model)


@pytest.mark.parametrize("url", ["/models/", "/models/upload/", "/api/models/"])
def test_lists_and_uploads_need_sign_in(client, url, nef_file):
    for response in (client.get(url), client.post(url, {"file": nef_file(), "chips": ["KL520"]})):
        if url.startswith("/api/"):
            assert response.status_code == 401
        else:
            assert response.status_code == 302
            assert response["Location"].startswith("/accounts/login/?next=")
    assert not NefModel.objects.exists()


def test_lists_show_only_the_users_models(alice, bob, bob_client, make_model):
    make_model(alice, "Alice's")
    make_model(bob, "Bob's")
    page = bob_client.get("/models/")
    assert "Bob&#x27;s" in page.content.decode() and "Alice" not in page.content.decode()
    names = [item["name"] for item in bob_client.get("/api/models/").json()["results"]]
    assert names == ["Bob's"]


def test_deleted_models_answer_404(alice, alice_client, make_model):
    model = make_model(alice)
    alice_client.post(f"/models/{model.pk}/delete/")
    assert alice_client.get(f"/models/{model.pk}/").status_code == 404
    assert alice_client.get(f"/api/models/{model.pk}/download").status_code == 404
