"""Order of the examples in the gallery: from the data to the method to the results."""

from pathlib import Path

ORDER = (
    "plot_synthetic_corpus.py",
    "plot_network_diagram.py",
    "plot_msfl_pipeline.py",
    "plot_shared_features.py",
    "plot_language_overlap.py",
    "demo.py",
)


class ExampleOrder:
    """Sort key for ``within_subsection_order``: ``ORDER`` first, then by file name."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        name = Path(filename).name
        rank = ORDER.index(name) if name in ORDER else len(ORDER)
        return rank, name

    def __repr__(self):
        # sphinx-gallery compares the configuration between builds by its repr.
        return f"<{type(self).__name__}>"
