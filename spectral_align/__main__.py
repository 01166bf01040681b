"`python -m spectral_align ...`: the `spectral-align` command (see `spectral_align.cli`)."
import sys

from spectral_align.cli import main

if __name__ == "__main__": sys.exit(main())
