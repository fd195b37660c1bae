"""The exit codes of `nn-compare`, in one place (every command and compare/cli.py use these).

    AGREE        0    the implementations agree (SUCCESS: a command that judges nothing, bench)
    DISAGREE     1    a disagreement was found (or one side diverged and the other did not)
    BAD_INPUT    2    bad input or an unusable target/configuration: one line on stderr
    INTERRUPTED  130  Ctrl-C (128 + SIGINT, as a shell says)
    BROKEN_PIPE  141  the reader of stdout left, e.g. `nn-compare ... | head` (128 + SIGPIPE)
"""

AGREE = 0
SUCCESS = AGREE
DISAGREE = 1
BAD_INPUT = 2
INTERRUPTED = 130
BROKEN_PIPE = 141
