"""Sizes as people write a limit: "500 MB", where filesizeformat says "500.0 MB".

A limit is a round number; the convert page writes its limits that way, and the model
pages and their refusals now do too. A size that is not round keeps its decimal
("1.5 GB").
"""

from __future__ import annotations

import re

from django.template.defaultfilters import filesizeformat

# The ".0" (or ",0", in a language whose decimal mark is a comma) before the unit.
_WHOLE_DECIMAL = re.compile(r"[.,]0(?=\D*$)")


def size_limit(size_bytes: int) -> str:
    return _WHOLE_DECIMAL.sub("", str(filesizeformat(size_bytes)))
