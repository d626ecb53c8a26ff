from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.i18n import JavaScriptCatalog

from conversion import urls as conversion_urls
from deployments import urls as deployments_urls
from devices import urls as devices_urls
from models_repo import urls as models_repo_urls
from tokens import urls as tokens_urls
from visiona import health, views
from visiona.api.schema import SchemaDocsView, SchemaView
from visiona.auth import oidc
from visiona.auth import views as auth_views

urlpatterns = [
    path("", views.home, name="home"),
    path(health.HEALTHZ_PATH.lstrip("/"), health.healthz, name="healthz"),
    path("api/system/info", health.SystemInfoApi.as_view(), name="api-system-info"),
    path("api/system/health", health.SystemHealthApi.as_view(), name="api-system-health"),
    path("api/system/", include(devices_urls.system_api_urlpatterns)),
    path("accounts/login/", auth_views.login_page, name="login"),
    path("accounts/logout/", auth_views.logout_view, name="logout"),
    path(
        "oidc/authenticate/",
        oidc.AuthenticationRequestView.as_view(),
        name="oidc_authentication_init",
    ),
    path(
        "oidc/callback/",
        oidc.AuthenticationCallbackView.as_view(),
        name="oidc_authentication_callback",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    path("i18n/time-zone/", views.time_zone_set, name="time-zone-set"),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
    path("", include(conversion_urls.page_urlpatterns)),
    path("api/conversion/", include(conversion_urls.api_urlpatterns)),
    path("devices/", include(devices_urls.page_urlpatterns)),
    path("devices/", include(deployments_urls.page_urlpatterns)),
    path("runs/", include(deployments_urls.run_page_urlpatterns)),
    path("api/devices/", include(devices_urls.api_urlpatterns)),
    path("api/agent/", include(devices_urls.agent_api_urlpatterns)),
    path("api/agent/", include(deployments_urls.agent_api_urlpatterns)),
    path("api/", include(deployments_urls.api_urlpatterns)),
    path("downloads/", include(devices_urls.download_urlpatterns)),
    path("models/", include(models_repo_urls.page_urlpatterns)),
    path("api/models/", include(models_repo_urls.api_urlpatterns)),
    path("tokens/", include(tokens_urls.page_urlpatterns)),
    path("api/tokens/", include(tokens_urls.api_urlpatterns)),
    path("api/auth/", include(tokens_urls.auth_api_urlpatterns)),
    # OpenAPI document and its Swagger UI (assets from static files), for signed-in users.
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    path("api/docs/", SchemaDocsView.as_view(url_name="api-schema"), name="api-docs"),
    # Last: any other /api/ path is the 404 envelope, with DEBUG on too.
    re_path(r"^api/", views.api_not_found, name=views.API_NOT_FOUND),
]

if settings.VISIONA_SANDBOX:
    # Stand-ins of the three upstreams for development (docs/sandbox.md).
    urlpatterns += [path("sandbox/", include("sandbox.urls"))]

handler400 = "visiona.views.bad_request"
handler403 = "visiona.views.permission_denied"
handler404 = "visiona.views.page_not_found"
handler500 = "visiona.views.server_error"

admin.site.site_header = "visionA Cloud"
admin.site.site_title = "visionA Cloud"
