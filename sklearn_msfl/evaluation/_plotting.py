"""Plot helpers shared by the modules; matplotlib, an optional dependency, is imported lazily."""

import numpy as np


def import_pyplot():
    """Return ``matplotlib.pyplot``, or raise an ImportError naming the ``plots`` extra."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            "Plotting needs matplotlib: install it with `pip install 'sklearn-msfl[plots]'`."
        ) from error
    return plt


def annotated_heatmap(ax, matrix, fmt, cmap, colorbar_label=None, *, vmin=None, vmax=None,
                      aspect="auto", colorbar_shrink=1.0):
    """Draw ``matrix`` (a DataFrame) as a heat map with every finite cell written in it.

    Rows and columns are labelled with the frame's index and columns; the text is
    dark on light cells and light on dark ones, whatever the colormap; a colour
    bar is added next to ``ax``.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    matrix : DataFrame
        Values to show.
    fmt : str
        Format specification of the cell text, e.g. ``".2f"``.
    cmap : str or Colormap
    colorbar_label : str, default=None
    vmin, vmax : float, default=None
        Colour limits (None: the data's range).
    aspect : {"auto", "equal"} or float, default="auto"
    colorbar_shrink : float, default=1.0

    Returns
    -------
    ax : matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from sklearn_msfl.evaluation._plotting import annotated_heatmap, import_pyplot
    >>> _, ax = import_pyplot().subplots()
    >>> ax = annotated_heatmap(ax, pd.DataFrame([[1, 0], [2, 3]]), ".0f", "Blues")
    >>> [text.get_text() for text in ax.texts]
    ['1', '0', '2', '3']
    """
    values = matrix.to_numpy(dtype=float)
    image = ax.imshow(values, cmap=cmap, aspect=aspect, vmin=vmin, vmax=vmax)
    ax.set_xticks(range(matrix.shape[1]), [str(c) for c in matrix.columns],
                  rotation=45, ha="right")
    ax.set_yticks(range(matrix.shape[0]), [str(i) for i in matrix.index])
    for (row, column), value in np.ndenumerate(values):
        if np.isfinite(value):
            red, green, blue, _ = image.cmap(image.norm(value))
            luminance = 0.299 * red + 0.587 * green + 0.114 * blue
            ax.text(column, row, format(value, fmt), ha="center", va="center",
                    color="black" if luminance > 0.5 else "white", fontsize="small")
    ax.figure.colorbar(image, ax=ax, label=colorbar_label, shrink=colorbar_shrink)
    return ax
