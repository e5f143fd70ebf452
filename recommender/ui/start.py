"""The first thing a run of the explorer draws: the page config and, on a process's first run, a message.

Light on purpose (no pandas, no networkx): the message shows before the heavy imports, the
database (on first use created from the bundled sample and its model fitted) and the network are
ready, so the first run never shows a blank page (issue 17).
"""

from __future__ import annotations

#: The first run's message.
STARTING = ("Starting fracnet: opening the database and reading the network. The very first run also "
            "creates the sample database and fits its model (about 10 seconds); later runs are instant.")
PAGE_CONFIG = {"page_title": "fracnet explorer", "page_icon": "🤝", "layout": "wide"}

_started = False


def begin():
    """Set the page up; a placeholder holding the message on the process's first run (None afterwards)."""
    import streamlit as st

    st.set_page_config(**PAGE_CONFIG)
    if _started:
        return None
    box = st.empty()
    box.info(STARTING, icon=":material/hourglass_top:")
    return box


def done() -> None:
    """The first run got through: later runs draw no message."""
    global _started
    _started = True
