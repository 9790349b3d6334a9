"""Root conftest so fixtures in tests.fixtures.py reach every app's tests."""

pytest_plugins = ["tests.fixtures"]
