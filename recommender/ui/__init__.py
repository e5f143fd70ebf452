"""The Streamlit explorer. ``app.py`` at the project root calls :func:`run`."""

#: Shown at once on a process's first run, before the heavy imports, the database (on first use
#: created from the bundled sample, its model fitted) and the network are ready: never a blank page.
STARTING = ("Starting fracnet: opening the database and reading the network. The very first run also "
            "creates the sample database and fits its model (about 10 seconds); later runs are instant.")

_started = False


def run() -> None:
    """Render the explorer (one Streamlit script run)."""
    global _started
    import streamlit as st

    st.set_page_config(page_title="fracnet explorer", page_icon="🤝", layout="wide")
    box = st.empty()
    if not _started:
        box.info(STARTING, icon=":material/hourglass_top:")
    from recommender.ui.main import render

    render(box)
    _started = True
