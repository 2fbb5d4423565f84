"""matplotlib, an optional dependency, imported only when a plot is asked for."""


def import_pyplot():
    """Return ``matplotlib.pyplot``, or raise an ImportError naming the ``plots`` extra."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            "Plotting needs matplotlib: install it with `pip install 'sklearn-msfl[plots]'`."
        ) from error
    return plt
