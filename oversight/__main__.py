"""`python -m oversight`: the same as the `oversight` command, for scripts that know only an interpreter."""

from oversight.cli import main

main()
