"""Entry point named by the original requirements: one market's worker (``polymaker worker``)."""

import sys

from polymaker.cli import main

if __name__ == "__main__":
    sys.exit(main(["worker", *sys.argv[1:]]))
