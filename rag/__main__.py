from .present.cli import main

raise SystemExit(main())
