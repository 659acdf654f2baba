"""Games being played, between the world and its pages: a single-player session with its turns,
undo and redo, the saved games, the verdict and the grading export; the workshop room, its
store and the facilitator's branching futures. ``ui/`` draws these and nothing here draws:
dependencies run ``ui -> play -> world, agents`` (docs/architecture.md)."""
