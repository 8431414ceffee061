"""Where the tests find the repository and their fixtures (one place, so
that a test's folder can change without its paths)."""

import os

TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)
FIXTURES = os.path.join(TESTS, "fixtures")
