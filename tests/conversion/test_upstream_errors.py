"""The clients raise their own errors; one table maps them onto the app's."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conversion import errors, upstream_errors
from conversion.clients import errors as client
from visiona.errors import AppError, ValidationFailed

CLIENTS = Path(client.__file__).parent


def client_error_classes():
    return [
        value
        for value in vars(client).values()
        if isinstance(value, type)
        and issubclass(value, client.ClientError)
        and value is not client.ClientError
    ]


@pytest.mark.parametrize("kind", client_error_classes(), ids=lambda kind: kind.__name__)
def test_every_client_error_has_its_app_error(kind):
    assert kind in upstream_errors._MAPPING
    error = upstream_errors.app_error(kind() if kind is not client.BudgetExhausted else kind(12))
    assert isinstance(error, AppError)


def test_details_and_retry_after_are_passed_on():
    busy = upstream_errors.app_error(client.ConverterBusy(headers={"Retry-After": "12"}))
    assert isinstance(busy, errors.ServiceBusy) and busy.headers == {"Retry-After": "12"}
    fields = [{"field": "platform", "message": "bad"}]
    invalid = upstream_errors.app_error(client.InvalidRequest(details={"fields": fields}))
    assert isinstance(invalid, ValidationFailed) and invalid.details == {"fields": fields}
    active = upstream_errors.app_error(client.UserHasActiveJob(details={"active_job": {"a": 1}}))
    assert isinstance(active, errors.ActiveJobExists)
    assert active.details == {"active_job": {"a": 1}}


def test_the_clients_import_none_of_the_apps_errors():
    for path in CLIENTS.glob("*.py"):
        tree = ast.parse(path.read_text())
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)} | {
            f"{node.module}.{alias.name}"
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }
        assert not {"conversion.errors"} & imported, path
        assert "conversion.errors" not in imported and "visiona.errors" not in imported, path
        assert not any(name.startswith("conversion.errors") for name in imported), path
