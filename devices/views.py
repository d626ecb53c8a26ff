"""Device pages: list, pair, detail, rename, unpair, revoke a token; the agent's download."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseNotFound
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)

from devices import (
    agent_commands,
    client_package,
    installed_models,
    presence,
    registry,
    selectors,
    services,
    tunnel,
)
from devices.errors import (
    DeviceNotFound,
    DeviceTokenNotFound,
    PairingCodeAlreadyUsed,
    PairingCodeNotFound,
    TooManyPairingCodes,
)
from devices.forms import DeviceRenameForm
from devices.models import Device
from visiona.auth.requests import SignedInRequest

# How often the pair page asks whether the device has appeared.
PAIRING_POLL_INTERVAL_MS = 3000


def _get_device_for_user(request: SignedInRequest, device_id: uuid.UUID) -> Device:
    try:
        return selectors.device_get_for_user(user=request.user, device_id=device_id)
    except DeviceNotFound:
        raise Http404() from None


# One page of devices, each asked for its live state: the page stays fast at 1,000 devices.
DEVICE_PAGE_SIZE = 50


@login_required
@require_GET
def device_list(request: SignedInRequest) -> HttpResponse:
    ordered = selectors.device_list_for_user(user=request.user).order_by("-created_at", "pk")
    page = Paginator(ordered, DEVICE_PAGE_SIZE).get_page(request.GET.get("page"))
    devices = list(page.object_list)
    # The live state from the registry, for all the user's devices at once (the
    # summary counts them; one lookup serves the page's rows too), and what each
    # connected device of the page reports through its tunnel (asked all at once, each
    # bounded: a slow one shows as such).
    registrations, summary = presence.user_overview(user=request.user)
    on_page = {str(device.pk) for device in devices}
    reports = tunnel.device_reports(
        devices=devices,
        registrations={
            key: value for key, value in (registrations or {}).items() if key in on_page
        },
    )
    # What apps above add beside a name (deployments: "Pinned").
    marks = registry.device_list_marks(devices=devices)
    rows = [
        {
            "device": device,
            "presence": presence.presence_of(device, registrations),
            "report": reports[str(device.pk)],
            "marks": marks[str(device.pk)],
        }
        for device in devices
    ]
    return render(
        request,
        "devices/list.html",
        {
            "devices": devices,
            "page": page,
            "rows": rows,
            "summary": summary,
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def device_pair(request: SignedInRequest) -> HttpResponse:
    """GET explains; POST makes a code and shows it this once (a reload makes a new one).
    Both list the codes still waiting, each with its expiry and a Revoke button."""
    context: dict[str, object] = {"ttl_minutes": settings.DEVICE_PAIRING_CODE_TTL_MINUTES}
    if request.method == "POST":
        try:
            issued = services.pairing_code_create(user=request.user)
        except TooManyPairingCodes as exc:
            messages.error(request, exc.message)
            context["live_codes"] = selectors.pairing_codes_live_for_user(user=request.user)
            context["codes_at_limit"] = True
            return render(request, "devices/pair.html", context, status=exc.status)
        pairing_code = issued.pairing_code
        server_url = request.build_absolute_uri("/")
        context |= {
            "code": issued.code,
            "pairing_code": pairing_code,
            "commands": _agent_commands(request, server_url=server_url, code=issued.code),
            "pairing_data": {
                "statusUrl": reverse("api-devices-pairing-code", args=[pairing_code.public_id]),
                "devicesUrl": reverse("devices"),
                "expiresAt": pairing_code.expires_at.isoformat(),
                "pollIntervalMs": PAIRING_POLL_INTERVAL_MS,
                "messages": {
                    "waiting": _("Waiting for the device to connect…"),
                    "paired": _("Paired: %(name)s. Opening the device…"),
                    "expired": _("This code has expired. Create a new one."),
                    "minutesLeft": _("Expires in %(minutes)s min."),
                    "error": _("Could not check the pairing status; retrying."),
                    "stopped": _("Could not check the pairing status. See your device list."),
                },
            },
        }
    context["live_codes"] = selectors.pairing_codes_live_for_user(user=request.user)
    context["codes_at_limit"] = (
        selectors.pairing_codes_pending_count(user=request.user)
        >= settings.DEVICE_PAIRING_MAX_ACTIVE_CODES
    )
    return render(request, "devices/pair.html", context)


@login_required
@require_POST
def pairing_code_revoke(request: SignedInRequest, pairing_code_id: uuid.UUID) -> HttpResponse:
    try:
        pairing_code = selectors.pairing_code_get_for_user(
            user=request.user, pairing_code_id=pairing_code_id
        )
    except PairingCodeNotFound:
        raise Http404() from None
    try:
        services.pairing_code_revoke(pairing_code=pairing_code)
    except PairingCodeAlreadyUsed as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The pairing code is revoked: no device can pair with it."))
    return redirect("devices-pair")


def _agent_commands(request: HttpRequest, *, server_url: str, code: str) -> dict[str, list[str]]:
    """The commands, each as its words: a phone wraps a command between words only."""
    wheel = client_package.current_wheel()
    commands = {
        "pair": agent_commands.pair_command(server_url=server_url, code=code),
        "run": agent_commands.run_command(server_url=server_url),
        "demo_pair": agent_commands.pair_command(server_url=server_url, code=code, demo=True),
        "demo_run": agent_commands.run_command(server_url=server_url, demo=True),
    }
    if wheel is not None:
        wheel_url = request.build_absolute_uri(reverse("downloads-file", args=[wheel.name]))
        commands["install"] = agent_commands.install_command(wheel_url=wheel_url)
        commands["demo_install"] = agent_commands.install_command(wheel_url=wheel_url, extra="demo")
    return {name: command.split(" ") for name, command in commands.items()}


@login_required
@require_GET
def device_detail(request: SignedInRequest, device_id: uuid.UUID) -> HttpResponse:
    device = _get_device_for_user(request, device_id)
    registrations = presence.registrations_or_none(devices=[device])
    registration = (registrations or {}).get(str(device.pk))
    # Both asked of the device at once, each bounded by its own timeout.
    with ThreadPoolExecutor(max_workers=2) as pool:
        asked_report = pool.submit(tunnel.device_report, device=device, registration=registration)
        asked_models = pool.submit(
            installed_models.installed_models, device=device, registration=registration
        )
        report, models = asked_report.result(), asked_models.result()
    run_command = agent_commands.run_command(
        server_url=request.build_absolute_uri("/"),
        demo=agent_commands.is_demo_serial(device.serial),
    )
    page = {
        "device": device,
        "tokens": selectors.device_tokens_for_device(device=device),
        "presence": presence.presence_of(device, registrations),
        "report": report,
        "installed": models,
        "run_command": run_command.split(" "),
    }
    # Then the sections the apps above registered (deployments: its history).
    context = registry.device_page_context(request=request, device=device, page=page)
    return render(request, "devices/detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def device_rename(request: SignedInRequest, device_id: uuid.UUID) -> HttpResponse:
    device = _get_device_for_user(request, device_id)
    form = DeviceRenameForm(request.POST or None, initial={"name": device.name})
    if request.method == "POST" and form.is_valid():
        services.device_rename(device=device, name=form.cleaned_data["name"])
        messages.success(request, _("The device is renamed."))
        return redirect("devices-detail", device_id=device.pk)
    return render(request, "devices/rename.html", {"device": device, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def device_unpair(request: SignedInRequest, device_id: uuid.UUID) -> HttpResponse:
    device = _get_device_for_user(request, device_id)
    if request.method == "POST":
        services.device_unpair(device=device)
        messages.success(
            request, _("%(name)s is unpaired and its tokens are revoked.") % {"name": device.name}
        )
        return redirect("devices")
    return render(request, "devices/unpair.html", {"device": device})


@login_required
@require_POST
def device_token_revoke(
    request: SignedInRequest, device_id: uuid.UUID, token_id: uuid.UUID
) -> HttpResponse:
    device = _get_device_for_user(request, device_id)
    try:
        device_token = selectors.device_token_get_for_device(device=device, token_id=token_id)
    except DeviceTokenNotFound:
        raise Http404() from None
    services.device_token_revoke(device_token=device_token)
    messages.success(request, _("The token is revoked. The agent must pair again to connect."))
    return redirect("devices-detail", device_id=device.pk)


# The agent's package: public, because a device has no session; nothing secret in it.


@require_safe
def client_downloads(request: HttpRequest) -> HttpResponse:
    """What there is to download, with links pip's ``--find-links`` understands too."""
    wheel = client_package.current_wheel()
    server_url = request.build_absolute_uri("/").rstrip("/")  # as the tokens page writes it
    context: dict[str, object] = {"wheel": wheel, "server_url": server_url}
    if wheel is not None:
        context["sha256"] = client_package.wheel_sha256(wheel)
        context["install"] = agent_commands.install_command(
            wheel_url=request.build_absolute_uri(reverse("downloads-file", args=[wheel.name]))
        )
    return render(request, "devices/downloads.html", context)


@require_safe
def client_download(request: HttpRequest, filename: str) -> HttpResponseBase:
    wheel = client_package.current_wheel()
    if wheel is None:
        return _download_not_found(
            _(
                "The visionA agent package is not built on this server. "
                "An operator can build it with: python manage.py build_client"
            )
        )
    # Only the current wheel, matched by its whole name: no other file is reachable.
    if filename != wheel.name:
        return _download_not_found(
            _("There is no %(name)s here. The agent package is %(wheel)s.")
            % {"name": filename, "wheel": wheel.name}
        )
    response = FileResponse(
        wheel.open("rb"),
        as_attachment=True,
        filename=wheel.name,
        content_type="application/octet-stream",
    )
    # The version is in the name, but a rebuild of the same version replaces the file.
    response["Cache-Control"] = "no-cache"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _download_not_found(message: str) -> HttpResponseNotFound:
    # Plain text: read by pip and curl as much as by people.
    return HttpResponseNotFound(message + "\n", content_type="text/plain; charset=utf-8")
