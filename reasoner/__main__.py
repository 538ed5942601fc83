"""`python -m reasoner` runs the command line."""

from reasoner.face.cli import main

raise SystemExit(main())
