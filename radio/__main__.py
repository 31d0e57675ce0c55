import sys

from .cli import main

if __name__ == "__main__":   # not again in a spawned process (the generator)
    sys.exit(main())
