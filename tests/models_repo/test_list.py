"""The list, on the page and in the API: filters, search, sort, pagination, and a
query count that does not grow with the number of models."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from models_repo.choices import ModelSource

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(alice, make_model):
    return {
        "yolo": make_model(alice, "YOLO v5", chips=["KL520", "KL720"], size=3000),
        "mobilenet": make_model(alice, "mobilenet", chips=["KL720"], size=1000),
        "resnet": make_model(
            alice, "ResNet", chips=["KL630"], size=2000, source=ModelSource.CONVERTED
        ),
    }


def api_names(client, **params) -> list[str]:
    response = client.get("/api/models/", params)
    assert response.status_code == 200, response.content
    return [item["name"] for item in response.json()["results"]]


def page_names(client, **params) -> list[str]:
    response = client.get("/models/", params)
    assert response.status_code == 200
    return [model.name for model in response.context["page"].object_list]


@pytest.mark.parametrize("names", [api_names, page_names])
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["ResNet", "mobilenet", "YOLO v5"]),  # newest first
        ({"sort": "name"}, ["mobilenet", "ResNet", "YOLO v5"]),  # case-insensitive
        ({"sort": "size"}, ["YOLO v5", "ResNet", "mobilenet"]),  # largest first
        ({"chip": "KL720", "sort": "name"}, ["mobilenet", "YOLO v5"]),
        ({"chip": "KL530"}, []),
        ({"source": "converted"}, ["ResNet"]),
        ({"source": "uploaded", "sort": "name"}, ["mobilenet", "YOLO v5"]),
        ({"search": "net", "sort": "name"}, ["mobilenet", "ResNet"]),
        ({"search": "  yolo "}, ["YOLO v5"]),
        ({"search": "net", "chip": "KL630"}, ["ResNet"]),
    ],
)
def test_filters_search_and_sort(alice_client, catalogue, names, params, expected):
    assert names(alice_client, **params) == expected


def test_deleted_models_are_not_listed(alice_client, catalogue):
    alice_client.delete(f"/api/models/{catalogue['yolo'].pk}")
    assert "YOLO v5" not in api_names(alice_client)
    assert "YOLO v5" not in page_names(alice_client)


def test_a_bad_filter_is_a_400_in_the_api_and_ignored_on_the_page(alice_client, catalogue):
    response = alice_client.get("/api/models/", {"chip": "KL999"})
    assert response.status_code == 400
    assert response.json()["error"]["details"]["fields"][0]["field"] == "chip"
    assert len(page_names(alice_client, chip="KL999")) == 3


def test_the_api_paginates(alice, alice_client, make_model):
    for number in range(25):
        make_model(alice, f"m{number:02d}")
    first = alice_client.get("/api/models/", {"sort": "name"}).json()
    assert first["count"] == 25 and len(first["results"]) == 20
    assert first["previous"] is None and "page=2" in first["next"]
    second = alice_client.get(first["next"]).json()
    assert [item["name"] for item in second["results"]] == [f"m{n:02d}" for n in range(20, 25)]
    assert second["next"] is None
    small = alice_client.get("/api/models/", {"page_size": 10, "page": 3}).json()
    assert len(small["results"]) == 5
    assert alice_client.get("/api/models/", {"page": 9}).status_code == 404


def test_the_page_paginates_and_keeps_the_filters(alice, alice_client, make_model):
    for number in range(25):
        make_model(alice, f"m{number:02d}", chips=["KL720"])
    response = alice_client.get("/models/", {"chip": "KL720", "sort": "name"})
    assert len(response.context["page"].object_list) == 20
    content = response.content.decode()
    assert "?chip=KL720&amp;sort=name&amp;page=2" in content
    second = alice_client.get("/models/", {"chip": "KL720", "sort": "name", "page": 2})
    assert [m.name for m in second.context["page"].object_list] == [
        f"m{n:02d}" for n in range(20, 25)
    ]
    # A page past the end shows the last one rather than an error.
    assert alice_client.get("/models/", {"page": 99}).status_code == 200


def test_the_api_output(alice_client, catalogue):
    item = alice_client.get("/api/models/", {"search": "YOLO"}).json()["results"][0]
    model = catalogue["yolo"]
    assert item == {
        "id": model.pk,
        "name": "YOLO v5",
        "description": "",
        "chips": ["KL520", "KL720"],
        "chip_source": "user",
        "chip_source_display": "As you chose them, not checked against the file",
        "source": "uploaded",
        "size_bytes": 3000,
        "sha256": model.sha256,
        "source_reference": "",
        "source_label": "",
        "has_reference": False,
        "created_at": item["created_at"],
        "updated_at": item["updated_at"],
    }


def _queries(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return [query["sql"] for query in queries]


@pytest.mark.parametrize("url", ["/models/", "/api/models/", "/models/?chip=KL720&sort=size"])
def test_the_query_count_does_not_grow_with_the_models(
    alice, alice_client, make_model, django_assert_num_queries, url
):
    make_model(alice, chips=["KL520", "KL720"])
    _queries(alice_client, url)  # the first request also reads the user: warm, then count
    with_one = len(_queries(alice_client, url))
    for _ in range(49):
        make_model(alice, chips=["KL520", "KL720", "KL630"])
    with django_assert_num_queries(with_one):
        alice_client.get(url)


@pytest.mark.parametrize("url", ["/models/", "/api/models/"])
def test_the_list_reads_models_in_three_queries(alice, alice_client, make_model, url):
    for _ in range(50):
        make_model(alice, chips=["KL520", "KL720"])
    # The count, one page of models, and their chips (the rest is the session).
    reads = [sql for sql in _queries(alice_client, url) if "models_repo_" in sql]
    assert len(reads) == 3, reads
