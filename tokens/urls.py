"""Token URLs, mounted by visiona/urls.py at /tokens/, /api/tokens and /api/auth/."""

from django.urls import path

from tokens import api, views

page_urlpatterns = [
    path("", views.token_list, name="tokens"),
    path("<uuid:token_id>/revoke/", views.token_revoke, name="tokens-revoke"),
]

api_urlpatterns = [
    path("", api.TokenListApi.as_view(), name="api-tokens"),
    path("<uuid:token_id>/revoke", api.TokenRevokeApi.as_view(), name="api-tokens-revoke"),
]

auth_api_urlpatterns = [
    path("me", api.MeApi.as_view(), name="api-auth-me"),
]
