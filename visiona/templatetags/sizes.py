"""``{{ limit_bytes|size_limit }}``: a size limit as people write it ("500 MB", not
"500.0 MB"; visiona/sizes.py)."""

from __future__ import annotations

from django import template

from visiona import sizes

register = template.Library()


@register.filter
def size_limit(size_bytes) -> str:
    return sizes.size_limit(int(size_bytes))
