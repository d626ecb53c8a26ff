"""Views that fail on purpose, to test the API's error envelope."""

from django.core.exceptions import PermissionDenied
from django.urls import include, path
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


class EchoApi(APIView):
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=5)
        count = serializers.IntegerField(min_value=1)

    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(data.validated_data)


class ForbiddenApi(APIView):
    def get(self, request):
        raise PermissionDenied


class BrokenApi(APIView):
    def get(self, request):
        raise RuntimeError("secret internals: password=hunter2")


class PublicEchoApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    def post(self, request):
        return Response({"size": len(request.data)})


def broken_page(request):
    raise RuntimeError("page internals")


def forbidden_page(request):
    raise PermissionDenied


urlpatterns = [
    path("api/test/echo", EchoApi.as_view()),
    path("api/test/forbidden", ForbiddenApi.as_view()),
    path("api/test/broken", BrokenApi.as_view()),
    path("api/test/public-echo", PublicEchoApi.as_view()),
    path("test/broken", broken_page),
    path("test/forbidden", forbidden_page),
    path("", include("visiona.urls")),
]
handler400 = "visiona.views.bad_request"
handler403 = "visiona.views.permission_denied"
handler404 = "visiona.views.page_not_found"
handler500 = "visiona.views.server_error"
