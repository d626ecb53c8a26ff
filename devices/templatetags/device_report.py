"""Names for what a device's local API reports (devices.tunnel.DeviceReport.versions).

Kneron's local API names its parts in English keys ("driver", "toolchain kneron_plus");
the ones it is known to send are said in the page's language, any other is shown as
the device sent it. The labels are looked up here, in the request's thread: the reports
are fetched in worker threads, which do not carry the request's language.
"""

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

_KNOWN = {
    "driver": _("Driver"),
    "firmware": _("Firmware"),
    "toolchain kneron_plus": "Kneron PLUS",
    "toolchain kneron_toolchain": _("Kneron toolchain"),
}


@register.filter
def fact_label(name: str) -> str:
    return str(_KNOWN.get(name, name))
