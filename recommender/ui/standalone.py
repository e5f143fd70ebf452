from recommender.ui import run

run()
