"""The explorer's pages: each module lays out one page in ``render()``; st.navigation runs it as a script."""
