"""python -m oomutil"""

from .cli import main

raise SystemExit(main())
