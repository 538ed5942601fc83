"""`python -m reasoner` runs the command line."""

from reasoner.cli import main

raise SystemExit(main())
