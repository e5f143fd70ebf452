"""The explorer's overview page (run by st.navigation; the work is in recommender.ui.overview)."""

from recommender.ui.overview import render

if __name__ == "__main__":
    render()
