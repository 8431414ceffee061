"""`python -m tfrnn` is the `tfrnn` command."""

import sys

from tfrnn.app.cli import main

sys.exit(main())
