"""Page scripts for st.navigation: each only calls its module's render()."""
