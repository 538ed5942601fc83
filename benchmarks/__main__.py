"""`python -m benchmarks [--quick] [--json OUT] [--compare OLD.json] [--only SECTION ...]`."""

from benchmarks.runner import main

raise SystemExit(main())
