"""The explorer's person page (run by st.navigation; the work is in recommender.ui.person)."""

from recommender.ui.person import render

if __name__ == "__main__":
    render()
