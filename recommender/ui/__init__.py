"""The Streamlit explorer. ``app.py`` at the project root calls :func:`run`."""


def run() -> None:
    """Render the explorer (one Streamlit script run)."""
    from recommender.ui.main import render

    render()
