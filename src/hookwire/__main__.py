"""``python -m hookwire``: the command line."""

from hookwire.cli import main

main()
