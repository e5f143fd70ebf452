"""The explorer's data page (run by st.navigation; the work is in recommender.ui.data)."""

from recommender.ui.data import render

if __name__ == "__main__":
    render()
