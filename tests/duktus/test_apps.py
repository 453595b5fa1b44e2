from __future__ import annotations

import gc
import unittest

from duktus.apps import GC_THRESHOLDS


class GarbageCollectorTestCase(unittest.TestCase):
    def test_it_collects_less_often_than_the_default(self) -> None:
        # Set in DuktusConfig.ready(): web and worker processes both run it.
        self.assertEqual(gc.get_threshold(), GC_THRESHOLDS)
        self.assertGreater(GC_THRESHOLDS[0], 700)
