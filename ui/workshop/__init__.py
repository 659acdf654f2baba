"""Workshop mode: one game shared by teams in their own browsers and a facilitator.

A game lives in an embedded SQLite database (store.py) as the list of its inputs; room.py holds
the live games, checks who may act for which seat, resolves turns and rebuilds a game from its
inputs after a restart.
"""
