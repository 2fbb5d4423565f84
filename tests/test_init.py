"""The lazy public API: every advertised name resolves and is documented."""

import pytest

import sklearn_msfl


@pytest.mark.parametrize("name", [n for n in sklearn_msfl.__all__ if n != "__version__"])
def test_public_name_resolves_with_docstring(name):
    obj = getattr(sklearn_msfl, name)
    assert obj.__doc__ and "Examples" in obj.__doc__, f"{name} lacks a docstring with Examples"


def test_unknown_name_raises_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        sklearn_msfl.nope  # noqa: B018
