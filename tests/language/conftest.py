import pytest

from bot.language import detect


@pytest.fixture(scope="session", autouse=True)
def loaded_models():
    """Load the models once, so no test pays (or times) the loading."""
    detect("warm up")
