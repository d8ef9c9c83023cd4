"""Entry point named by the original requirements: the supervisor (``polymaker run``)."""

import sys

from polymaker.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", *sys.argv[1:]]))
