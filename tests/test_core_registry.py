"""Core knows no app: conversion and devices add to the health answer, the OpenAPI
document and every page's context by registering themselves (visiona/registry.py)."""

from __future__ import annotations

import pytest
from rest_framework import serializers

from visiona import registry
from visiona.health import SystemHealthSerializer

pytestmark = pytest.mark.django_db


def test_the_apps_registered_their_health_fields_in_the_schema(client, alice):
    client.force_login(alice)
    document = client.get("/api/schema/", {"format": "json"}).json()
    health = document["components"]["schemas"]["SystemHealth"]["properties"]
    assert {"status", "checks", "conversion_enabled", "devices", "tunnel_connected"} <= set(health)
    assert document["components"]["securitySchemes"]["deviceToken"]["scheme"] == "bearer"


def test_the_health_answer_has_exactly_the_documented_fields(alice_client):
    body = alice_client.get("/api/system/health").json()
    assert set(body) == set(SystemHealthSerializer().fields)
    assert body["tunnel_connected"] is False and body["agent_session_count"] == 0


def test_a_registered_health_part_is_answered_and_described(alice_client, monkeypatch):
    monkeypatch.setattr(registry, "_health_parts", dict(registry._health_parts))
    registry.register_health_part(
        "extra",
        fields=lambda: {"extra_count": serializers.IntegerField()},
        values=lambda user: {"extra_count": len(user.username)},
    )
    assert alice_client.get("/api/system/health").json()["extra_count"] == len("alice")
    assert "extra_count" in SystemHealthSerializer().fields


def test_a_registered_page_context_reaches_every_page(alice_client, monkeypatch):
    monkeypatch.setattr(registry, "_page_contexts", dict(registry._page_contexts))
    registry.register_page_context("extra", lambda request: {"extra_flag": "on"})
    response = alice_client.get("/devices/")
    assert response.context["extra_flag"] == "on"
    assert "active_conversion" in response.context  # conversion's, registered at start
