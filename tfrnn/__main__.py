"""`python -m tfrnn` is the `tfrnn` command."""

import sys

from tfrnn.cli import main

sys.exit(main())
