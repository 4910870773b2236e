"""Allow ``python -m trmseq``."""

from trmseq.cli import main

if __name__ == "__main__":  # spawned batch workers re-import this module
    main()
