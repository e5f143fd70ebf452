"""The practice around the answers: me, the outreach pipeline, touches, this week, calendar.

* :mod:`recommender.practice.owner`: whose tool this is ("me"), stored in the database.
* :mod:`recommender.practice.pipeline`: the saved outreach pipeline (items, statuses, history).
* :mod:`recommender.practice.touches`: interactions that keep ties' last contact true.
* :mod:`recommender.practice.week`: this week's view (follow-ups, losing touch, new suggestions,
  referrals awaiting an outcome, the go-giver balance).
* :mod:`recommender.practice.calendar`: follow-ups as iCalendar.

Every write is one store transaction. Writes that leave the network as it was
(pipeline items, the owner setting) use ``store.transaction(practice=True)``, so
they do not invalidate the fitted "who to meet" model.
"""
