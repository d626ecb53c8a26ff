"""A query serializer given no parameter at all answers its defaults without building
its fields: held equal to DRF's own validation for every one the API declares."""

from __future__ import annotations

import pytest
from django.http import QueryDict
from rest_framework import serializers

from conversion.api_history import ConversionListApi
from deployments.api.views import DeploymentListApi
from models_repo.api import ModelListApi
from visiona.api.fields import QuerySerializer

FILTERS = [ModelListApi.FilterSerializer, ConversionListApi.FilterSerializer]
FILTERS += [DeploymentListApi.FilterSerializer]


@pytest.mark.parametrize("serializer", FILTERS, ids=lambda s: s.__qualname__)
def test_no_parameter_gives_what_drf_gives(serializer):
    fast = serializer(data=QueryDict(""))
    generic = serializer(data=QueryDict(""))
    assert fast.is_valid()
    assert serializers.Serializer.is_valid(generic)
    assert fast.validated_data == generic.validated_data


def test_a_required_parameter_is_still_asked_for():
    class WithRequired(QuerySerializer):
        page = serializers.IntegerField()

    checked = WithRequired(data=QueryDict(""))
    assert not checked.is_valid()
    assert "page" in checked.errors
