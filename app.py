"""fracnet's Streamlit explorer: `streamlit run app.py` (or `fracnet app`)."""

from recommender.ui import run

run()
