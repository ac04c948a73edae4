"""Studies: a grid of runs (protocols × players × judges × datasets × seeds × judge prompts), a tournament
between players, a weak-to-strong ladder and a human campaign, run from one file and reported as the papers'
figures."""

from oversight.study.cells import Cell
from oversight.study.spec import Player, StudySpec, load_study

__all__ = ["Cell", "Player", "StudySpec", "load_study"]
