"""Exit codes, one scheme for every verb, so that a CI job can tell a verdict from an error.

0 everything checked is fine; 1 an error (bad input, engine, network: nothing was decided);
2 a usage error (click); 3 a difference (MISMATCH in compare/verify, differences in explain);
4 a failure (a build failed, a doctor check failed); 5 incomplete (packages not built or not
published, nothing worse); 6 nothing to compare; 7 unstable (two rounds of a package's build
differ, `--rounds 2`); 130 interrupted. When several apply, the first of 3, 7, 4, 5, 6.
"""

OK = 0
ERROR = 1
USAGE = 2
DIFFERS = 3
FAILED = 4
INCOMPLETE = 5
NOTHING = 6
UNSTABLE = 7
INTERRUPTED = 130
