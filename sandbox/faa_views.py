"""The File Access Agent stand-in, under /sandbox/faa/ (upstreams.md §3).

GET streams an object to a service (bearer token, files:download.read) or to a
browser (?access_token=, a delegated token bound to the key, GET and a time).
PUT stores one (files:upload.write). Objects live in sandbox.store.
"""

from __future__ import annotations

import posixpath

from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from sandbox import faults, store, tokens
from sandbox.http import CHUNK_SIZE, check_service_token, error, json_answer, request_body

READ_SCOPE = "files:download.read"
UPLOAD_SCOPE = "files:upload.write"


@csrf_exempt
def file(request: HttpRequest, key: str) -> HttpResponseBase:
    if request.method in {"GET", "HEAD"}:
        return _download(request, key)
    if request.method == "PUT":
        return _upload(request, key)
    return error(request, 405, "method_not_allowed", "Method not allowed.", Allow="GET, HEAD, PUT")


def _download(request: HttpRequest, key: str) -> HttpResponseBase:
    if refused := _authorize(request, key, READ_SCOPE):
        return refused
    if status := faults.take("faa.get"):
        return error(request, status, "internal_error", "Injected fault (sandbox).")
    stored = store.get_object(key)
    if stored is None:
        return error(request, 404, "object_not_found", "No object has this key.")
    response = FileResponse(
        stored.path.open("rb"),
        as_attachment=True,
        filename=posixpath.basename(key),
        content_type="application/octet-stream",
    )
    response["ETag"] = stored.etag
    response["Cache-Control"] = "private, no-store"
    return response


def _upload(request: HttpRequest, key: str) -> HttpResponse:
    if refused := _authorize(request, key, UPLOAD_SCOPE):
        return refused
    if not store.is_valid_object_key(key):
        return error(request, 422, "invalid_object_key", "The key is not a valid path-like key.")
    existed = store.get_object(key) is not None
    body = request_body(request)
    try:
        stored = store.put_object(key, iter(lambda: body.read(CHUNK_SIZE), b""))
    except ValueError:
        return error(request, 400, "invalid_body", "The request body ended early or is malformed.")
    return json_answer(
        {"key": stored.key, "size_bytes": stored.size_bytes, "etag": stored.etag},
        200 if existed else 201,
        ETag=stored.etag,
    )


def _authorize(request: HttpRequest, key: str, scope: str) -> HttpResponse | None:
    """A service token with ``scope``, or a delegated token for this key and method."""
    delegated = request.GET.get("access_token")
    if delegated is None or "Authorization" in request.headers:
        return check_service_token(request, scope)
    try:
        claims = tokens.read(delegated, kind=tokens.DOWNLOAD)
    except tokens.TokenError as exc:
        return error(request, 401, exc.code, exc.message)
    method = "GET" if request.method == "HEAD" else request.method
    if claims["object_key"] != key or claims["method"] != method:
        return error(
            request, 403, "access_denied", "The access token is for another object or method."
        )
    return None
