"""`python -m tradeoff …`: the same as the `tradeoff` console script."""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from tradeoff.main import main

    sys.exit(main())
