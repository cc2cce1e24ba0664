"""`python -m ivig_chat` runs the command line."""

from .cli import main

raise SystemExit(main())
