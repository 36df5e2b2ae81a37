"""`python -m gui [MODEL] [--trust]`: the desktop app. Import-light: spawn re-imports __main__."""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()  # first, for the frozen bundle's worker processes
    from gui.app import main

    sys.exit(main(sys.argv[1:]))
