"""The suite never empties the Redis database it is given: it deletes only its own keys."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django_redis import get_redis_connection

from tests.conftest import clear_own_cache

pytestmark = pytest.mark.redis


def test_clearing_keeps_keys_the_suite_did_not_write():
    redis = get_redis_connection("default")
    foreign = "someone-elses:key"
    redis.set(foreign, "keep me", ex=60)
    try:
        cache.set("ours", 1)
        clear_own_cache()
        assert cache.get("ours") is None
        assert redis.get(foreign) == b"keep me"
    finally:
        redis.delete(foreign)


def test_the_suite_writes_under_a_prefix_of_its_own_run():
    cache.set("probe", 1)
    keys = get_redis_connection("default").keys("*probe")
    assert keys and all(key.startswith(settings.TEST_CACHE_KEY_PREFIX.encode()) for key in keys)
