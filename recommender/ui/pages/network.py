"""The explorer's network page (run by st.navigation; the work is in recommender.ui.network)."""

from recommender.ui.network import render

if __name__ == "__main__":
    render()
