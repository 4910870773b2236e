"""Allow ``python -m trmseq``."""

from trmseq.cli import main

main()
