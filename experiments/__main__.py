"""``python -m experiments``: the ``chokepoint`` command."""

from experiments.cli import main

raise SystemExit(main())
