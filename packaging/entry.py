"""Entry point of the frozen bundle: freeze_support() first, so spawned workers start right."""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from tradeoff.main import main

    sys.exit(main())
