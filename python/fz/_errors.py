"""Exceptions of fz's public API, in a module of their own so that
`import fz` (and every console command) does not load the machinery that
raises them."""


class FunctionModelParallelError(RuntimeError):
    """fzd() with a Python function model and calculators=N>1: the function
    raised while points were evaluated on several threads. Raised at once
    (not counted as a failed point), since a function that is not safe to
    call from several threads fails that way: retry with calculators=1."""
