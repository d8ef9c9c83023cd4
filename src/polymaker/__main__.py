"""``python -m polymaker`` is the ``polymaker`` command."""

from polymaker.cli import main

raise SystemExit(main())
