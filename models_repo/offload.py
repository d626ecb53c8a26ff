"""Model files sent by someone else than a web thread: the app authorizes, the front
server or the object store sends the bytes (docs/streams.md).

A stored file leaves one of three ways, chosen per request:

- **X-Accel-Redirect** to nginx's internal location, when the storage is a local folder
  and the request came through an nginx that says it can read it
  (``X-Visiona-Offload: files``, set by deploy/nginx/visiona/proxy.conf whatever the
  client sent). The app's answer carries the headers and no body; nginx sends the file.
- **A presigned URL** (302) when the storage is S3: the client fetches from the bucket
  (a browser always; an agent when it says it follows one, ``agent_follows_presigned``).
- **Streamed by the app**, as without either (``make run`` has no nginx).

Not django-sendfile2: its nginx backend is the X-Accel-Redirect header alone, with one
fixed internal prefix, while the app needs two (the whole file, or one byte range after
deciding If-Range itself), its own Content-Disposition (FileResponse's, unchanged) and
S3's presigned redirect, which it has not.
"""

from __future__ import annotations

from urllib.parse import quote

from django.core.files.storage import FileSystemStorage, storages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

# AGENT_ACCEPTS_HEADER: what an agent says it can do with a file's answer, space-separated
# words, spelled once at the agent's end of the protocol. "presigned": it follows one
# redirect to the bucket, without its token. Older agents refuse any redirect and send no
# such header: they get the bytes from here.
from visiona_client.server_api import AGENT_ACCEPTS_HEADER

OFFLOAD_HEADER = "X-Visiona-Offload"
# nginx's internal locations (deploy/nginx/templates/visiona-locations.inc.template).
WHOLE_FILE_PREFIX = "/_internal/files/whole/"
RANGED_FILE_PREFIX = "/_internal/files/ranged/"
# A presigned URL is a bearer credential for one file: short-lived.
PRESIGNED_SECONDS = 300


def nginx_serves_files(request: HttpRequest) -> bool:
    """The request came through an nginx that reads the models folder itself."""
    offered = request.headers.get(OFFLOAD_HEADER, "").split()
    return "files" in offered and isinstance(_storage(), FileSystemStorage)


def agent_follows_presigned(request: HttpRequest) -> bool:
    """The storage is S3 and the agent asking follows a presigned redirect to it."""
    offered = request.headers.get(AGENT_ACCEPTS_HEADER, "").split()
    return "presigned" in offered and is_object_store()


def _storage():
    return storages["models"]


def is_object_store() -> bool:
    # django-storages' S3Storage or a subclass (visiona.s3_storage), told by the classes'
    # modules: importing S3Storage for isinstance would load boto3 where files are local.
    return any(
        cls.__module__.startswith("storages.backends.s3") for cls in type(_storage()).__mro__
    )


def accel_redirect(name: str, *, ranged: bool = False) -> HttpResponse:
    """An answer with no body that nginx completes with the stored file ``name``."""
    prefix = RANGED_FILE_PREFIX if ranged else WHOLE_FILE_PREFIX
    response = HttpResponse(status=200)
    response["X-Accel-Redirect"] = prefix + quote(name, safe="/")
    return response


def presigned_redirect(name: str, *, content_type: str, disposition: str | None) -> HttpResponse:
    """302 to the bucket: the answer's type and file name set by the signed URL."""
    parameters = {"ResponseContentType": content_type}
    if disposition:
        parameters["ResponseContentDisposition"] = disposition
    url = _storage().url(name, parameters=parameters, expire=PRESIGNED_SECONDS)
    response = HttpResponseRedirect(url)
    # The URL is a credential: neither cached nor sent on as a referrer.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
