"""The suite's shared fixtures live in the plugin tests/helpers/fixtures.py (registered here:
pytest takes ``pytest_plugins`` from the rootdir conftest only); plain helpers are in the
tests/helpers modules, by theme."""

pytest_plugins = ["tests.helpers.fixtures"]
