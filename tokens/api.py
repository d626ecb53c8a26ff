"""The personal API tokens API, and who-am-I. Views validate, call a service, serialize.

Managing tokens needs a signed-in session (NOT_FOR_TOKENS): a leaked token cannot
mint more tokens or outlive its own revocation.
"""

from __future__ import annotations

import uuid

from drf_spectacular.utils import extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from tokens import selectors, services
from tokens.models import PersonalToken
from visiona.api import fields
from visiona.api.schema import error_response
from visiona.api.scopes import ANY_SCOPE, NOT_FOR_TOKENS, Scope

TOKEN_NOT_FOUND = error_response("token_not_found: unknown, or another user's token.")


class TokenOutputSerializer(serializers.ModelSerializer):
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=Scope.choices))
    starts_with = serializers.CharField(source="display_prefix")
    active = serializers.BooleanField(source="is_active")

    class Meta:
        model = PersonalToken
        fields = [
            "id",
            "name",
            "starts_with",
            "scopes",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "active",
        ]
        read_only_fields = fields


class IssuedTokenSerializer(TokenOutputSerializer):
    token = serializers.CharField(help_text="The secret: shown in this answer only.")

    class Meta(TokenOutputSerializer.Meta):
        fields = [*TokenOutputSerializer.Meta.fields, "token"]
        read_only_fields = fields


class TokenListSerializer(serializers.Serializer):
    tokens = TokenOutputSerializer(many=True)


class TokenListApi(APIView):
    """Your personal API tokens (GET, newest first, without secrets), or a new one (POST)."""

    token_scope = NOT_FOR_TOKENS

    @extend_schema_serializer(component_name="TokenCreate")
    class InputSerializer(fields.InputSerializer):
        # A pattern, so the document says what the check does: not only spaces.
        name = fields.RegexField(r"\S", max_length=100)
        scopes = serializers.ListField(
            child=serializers.ChoiceField(choices=Scope.choices), min_length=1, max_length=3
        )
        expires_in_days = serializers.IntegerField(
            min_value=1, max_value=services.MAX_EXPIRY_DAYS, default=services.DEFAULT_EXPIRY_DAYS
        )

    @extend_schema(operation_id="tokens_list", responses={200: TokenListSerializer})
    def get(self, request):
        tokens = selectors.token_list_for_user(user=request.user)
        return Response({"tokens": TokenOutputSerializer(tokens, many=True).data})

    @extend_schema(
        operation_id="tokens_create",
        request=InputSerializer,
        responses={
            201: IssuedTokenSerializer,
            400: error_response("validation_failed: a name, one scope at least, 1-365 days."),
            409: error_response("too_many_tokens: revoke one first."),
        },
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        issued = services.token_create(owner=request.user, **data.validated_data)
        body = TokenOutputSerializer(issued.token).data
        body["token"] = issued.secret
        response = Response(body, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response


class TokenRevokeApi(APIView):
    """Revoke one of your tokens: from now on it answers 401. Idempotent."""

    token_scope = NOT_FOR_TOKENS

    @extend_schema(request=None, responses={200: TokenOutputSerializer, 404: TOKEN_NOT_FOUND})
    def post(self, request, token_id: uuid.UUID):
        token = selectors.token_get_for_user(user=request.user, token_id=token_id)
        token = services.token_revoke(token=token, by=request.user)
        return Response(TokenOutputSerializer(token).data)


class MeOutputSerializer(serializers.Serializer):
    user = inline_serializer(
        "MeUser",
        {
            "id": serializers.IntegerField(),
            "username": serializers.CharField(),
            "email": serializers.CharField(),
            "display_name": serializers.CharField(),
        },
    )
    means = serializers.ChoiceField(choices=["session", "token"])
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=Scope.choices),
        help_text="What this request may do: every scope for a session.",
    )
    token = TokenOutputSerializer(allow_null=True, help_text="The token used, if any.")


class MeApi(APIView):
    """Who is signed in, by which means (session or token), with which scopes."""

    token_scope = ANY_SCOPE

    @extend_schema(operation_id="auth_me", responses={200: MeOutputSerializer})
    def get(self, request):
        user = request.user
        token = request.auth if isinstance(request.auth, PersonalToken) else None
        return Response(
            {
                "user": {
                    "id": user.pk,
                    "username": user.get_username(),
                    "email": user.email,
                    "display_name": user.display_name,
                },
                "means": "token" if token else "session",
                "scopes": list(token.scopes) if token else list(Scope.values),
                "token": TokenOutputSerializer(token).data if token else None,
            }
        )
