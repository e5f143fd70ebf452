"""Data: import CSV files or a LinkedIn export (all or nothing), and download a backup."""

from __future__ import annotations

import os
import tempfile
from datetime import date

import streamlit as st

from recommender.store.schema import IMPORT_ORDER, TABLES
from recommender.ui import state, views
from recommender.ui.picker import person_picker

RESULT_KEY = "import_result"
OWNER_KEY = "linkedin_owner"


def backup_bytes(store) -> bytes:
    """A consistent copy of the database (SQLite online backup) as bytes."""
    with tempfile.TemporaryDirectory(prefix="fracnet-backup-") as tmp:
        path = store.backup(os.path.join(tmp, "backup.db"))
        return path.read_bytes()


def _show_result() -> None:
    res = st.session_state.get(RESULT_KEY)
    if res is None:
        return
    if res.ok:
        st.success(views.md_escape(res.message or "Imported."))
        if len(res.warnings):
            st.warning(f"{len(res.warnings)} warnings (imported anyway):")
            st.dataframe(res.warnings, hide_index=True, width="stretch", key="import_warnings")
    else:
        n = len(res.problems)
        st.error(views.md_escape(f"{n} problem{'s' if n != 1 else ''} found. {res.message}".strip()))
        if n:
            st.dataframe(res.problems, hide_index=True, width="stretch", key="import_problems")


def _after(res) -> None:
    st.session_state[RESULT_KEY] = res
    if res.ok:
        state.clear_caches()
    st.rerun()


def render() -> None:
    st.title("Data")
    store = state.get_store()
    counts = store.counts()
    st.caption("  ·  ".join(f"{counts[t]:,} {t}" for t in IMPORT_ORDER))
    _show_result()
    from recommender.ui.auth import is_admin

    if not is_admin():
        st.info("Importing data and downloading a backup need an admin. Ask the person who runs this explorer.")
        return
    tabs = st.tabs(["CSV files", "LinkedIn connections", "Backup"])
    with tabs[0]:
        st.markdown("Upload one or more of " + ", ".join(f"`{TABLES[t].file}`" for t in IMPORT_ORDER)
                    + ". Files are matched by name. Nothing is written unless every row of every file is valid.")
        files = st.file_uploader("CSV files", type=["csv"], accept_multiple_files=True, key="upload_csvs")
        if st.button("Import", key="import_csvs", type="primary", disabled=not files):
            _after(views.import_uploads(store, [(f.name, f.getvalue()) for f in files]))
    with tabs[1]:
        st.markdown("LinkedIn: *Settings → Data privacy → Get a copy of your data → Connections*. "
                    "The file imports as it comes; each connection becomes a tie to the owner.")
        if OWNER_KEY not in st.session_state:  # starts on the person chosen in the sidebar
            st.session_state[OWNER_KEY] = state.current_person()
        owner = person_picker("Owner (whose connections these are)", OWNER_KEY, "linkedin_owner_search",
                              search_label="Find the owner", placeholder="Choose the owner…",
                              help="Each connection in the file becomes a tie to this person.")
        up = st.file_uploader("Connections.csv", type=["csv"], key="upload_linkedin")
        if st.button("Import connections", key="import_linkedin", type="primary", disabled=not (up and owner)):
            _after(views.import_linkedin_upload(store, up.name, up.getvalue(), owner))
    with tabs[2]:
        st.markdown("A consistent copy of the whole database, safe while others write. "
                    "Restore with `fracnet restore` (or open it with `--db`).")
        st.download_button("Download a backup", data=lambda: backup_bytes(store),
                           file_name=f"fracnet-backup-{date.today().isoformat()}.db",
                           mime="application/vnd.sqlite3", key="backup_download", type="primary",
                           icon=":material/download:")


if __name__ == "__main__":  # run by st.navigation as a page script
    render()
