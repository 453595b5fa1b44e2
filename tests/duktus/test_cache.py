"""CACHE_URL: rate-limit counters in Redis, shared by every web process (the embedded Redis here)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.test import override_settings
from django.urls import reverse

from tests.assessments.helpers import make_link
from tests.base import BaseTestCase


def redis_caches(prefix: str) -> dict[str, dict[str, str]]:
    sock = settings.VAR_DIR / "redis" / "redis.sock"
    return {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": f"unix://{sock}",
                        "KEY_PREFIX": prefix}}


class SharedRateLimitTestCase(BaseTestCase):
    def test_link_rate_limit_counts_across_processes(self) -> None:
        prefix = f"test-{uuid.uuid4().hex}"  # this test's own keys in the shared server
        _link, token = make_link(self.patient, self.alice)
        self.client.logout()
        url = reverse("assessments:fill", args=[token])
        with override_settings(CACHES=redis_caches(prefix), ASSESSMENTS_LINK_RATE=(3, 600)):
            self.assertIsInstance(caches["default"], RedisCache)
            for _ in range(2):
                self.assertEqual(self.client.get(reverse("assessments:fill", args=["forged-token"])).status_code, 404)
            # A second web process has its own connection: it sees the same counter in Redis.
            other_process = RedisCache(redis_caches(prefix)["default"]["LOCATION"], {"KEY_PREFIX": prefix})
            keys = [k for k in other_process._cache.get_client().scan_iter(f"{prefix}:*link-rate*")]
            self.assertEqual(len(keys), 1)
            self.assertEqual(int(other_process._cache.get_client().get(keys[0])), 2)
            self.assertEqual(self.client.get(url).status_code, 200)  # the third request
            r = self.client.get(url)
            self.assertEqual(r.status_code, 429)
            self.assertContains(r, "Zu viele Anfragen", status_code=429)
            other_process._cache.get_client().delete(*keys)
