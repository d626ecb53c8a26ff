def test_home_renders_for_a_signed_in_user(alice_client):
    response = alice_client.get("/")
    assert response.status_code == 200
    assert b"Welcome" in response.content
