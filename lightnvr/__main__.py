"""`python -m lightnvr`: the same as the `lightnvr` command."""

import sys

from lightnvr.cli import main

if __name__ == "__main__":
    sys.exit(main())
