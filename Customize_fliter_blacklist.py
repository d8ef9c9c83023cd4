"""Entry point named by the original requirements: the market screener (``polymaker screen``)."""

import sys

from polymaker.cli import main

if __name__ == "__main__":
    sys.exit(main(["screen", *sys.argv[1:]]))
