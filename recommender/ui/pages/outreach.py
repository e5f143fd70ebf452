"""The explorer's outreach page (run by st.navigation; the work is in recommender.ui.outreach)."""

from recommender.ui.outreach import render

if __name__ == "__main__":
    render()
