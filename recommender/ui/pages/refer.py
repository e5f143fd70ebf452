"""The explorer's refer page (run by st.navigation; the work is in recommender.ui.refer)."""

from recommender.ui.refer import render

if __name__ == "__main__":
    render()
