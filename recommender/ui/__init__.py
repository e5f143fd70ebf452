"""The Streamlit explorer. ``app.py`` at the project root calls :func:`run`."""


def run() -> None:
    """Render the explorer (one Streamlit script run); the first run's message comes first
    (:mod:`recommender.ui.start`), before anything heavy is imported."""
    from recommender.ui import start

    box = start.begin()
    from recommender.ui.main import render

    render(box)
    start.done()
