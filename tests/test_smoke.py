def test_home_renders_for_a_signed_in_user(alice_client):
    response = alice_client.get("/")
    assert response.status_code == 200
    assert b"Welcome" in response.content


def test_home_points_to_convert_my_models_and_devices(alice_client):
    content = alice_client.get("/").content.decode()
    for path in ("/convert/", "/conversions/", "/models/", "/devices/"):
        assert f'href="{path}"' in content
    assert "Coming soon" not in content
