"""The person picker used by the sidebar and the Data page.

A small network lists everyone, sorted by name. Above
:data:`PICKER_LIST_ALL` people a selectbox of everyone would send the whole
network to the browser, so the picker asks for part of a name or id first
and lists the :data:`PICKER_MATCHES` best matches
(:func:`recommender.people_search.find_people`). The chosen person stays
listed whatever is searched next.
"""

from __future__ import annotations

import streamlit as st

from recommender.ui import state, views

#: Up to this many people a picker lists everyone; above, it searches first.
PICKER_LIST_ALL = 5000
#: Matches offered after a search.
PICKER_MATCHES = 50


def person_picker(label: str, key: str, search_key: str, *, help: str, search_label: str = "Find a person",
                  placeholder: str = "Type a name or id…") -> str | None:
    """A selectbox of people (session-state ``key``); in a big network, a search box (``search_key``) above it.

    Returns the chosen id, or None.
    """
    fx = state.facts()
    if st.session_state.get(key) is not None and st.session_state[key] not in fx.index:  # gone from the network
        st.session_state[key] = None
    if len(fx) <= PICKER_LIST_ALL:
        options = list(fx.sort_values(["name", "id"]).index)
    else:
        query = st.text_input(search_label, key=search_key, placeholder="Part of a name or id…",
                              help=f"{len(fx):,} people: type a few letters, then pick from the matches.")
        matches = state.find_people(query, PICKER_MATCHES)
        current = st.session_state.get(key)
        options = matches if current is None or current in matches else [current] + matches
        if query.strip() and not matches:  # the chosen person stays chosen
            st.caption("No one matches " + views.md_escape(query.strip()) + ".")
        placeholder = f"{len(matches)} matches" if query.strip() else "Search above first"
    return st.selectbox(label, options, key=key, index=None, format_func=lambda pid: views.person_label(fx, pid),
                        placeholder=placeholder, help=help)
