"""Allow `python -m hiccup` so editors can start the server with just an interpreter path."""

from hiccup.cli import main

raise SystemExit(main())
