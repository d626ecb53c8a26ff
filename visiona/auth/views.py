"""The sign-in page and sign-out."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import LoginView
from django.shortcuts import redirect, resolve_url
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from visiona import time_zone
from visiona.auth.oidc import provider_logout_url


class SignInView(LoginView):
    """Member Center's button when OIDC is configured; a password form otherwise
    (staff may still use a password then, for Django admin)."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get(self, request, *args, **kwargs):
        if request.GET.get("failed"):
            messages.error(request, _("Sign-in did not complete. Please try again."))
        return super().get(request, *args, **kwargs)

    def form_valid(self, form):
        response = super().form_valid(form)
        # The browser's zone came with the password (static/js/sign-in.js): the first
        # page after sign-in already shows times in it. A missing or unknown one is
        # ignored; time-zone.js then posts it from that page.
        time_zone.remember(self.request.session, self.request.POST.get("time_zone", ""))
        return response


login_page = SignInView.as_view()


@require_POST
def logout_view(request):
    redirect_to = resolve_url(settings.LOGOUT_REDIRECT_URL)
    if settings.OIDC_ENABLED and request.session.get("oidc_id_token"):
        # End the provider's session too, or the next sign-in is silent.
        redirect_to = provider_logout_url(request)
    logout(request)
    # Said on the next page (the sign-in page): without it, signing out looked like
    # being sent to sign in. Messages live in a cookie first, so the flushed session
    # does not take this one with it.
    messages.success(request, _("You are signed out."))
    return redirect(redirect_to)
