"""The explorer's insights page (run by st.navigation; the work is in recommender.ui.insights)."""

from recommender.ui.insights import render

if __name__ == "__main__":
    render()
