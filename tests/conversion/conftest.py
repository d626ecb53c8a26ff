from tests.conversion.upstreams import upstream, upstream_settings  # noqa: F401
