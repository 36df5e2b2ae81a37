"""`tradeoff optimize`: the cheapest variant of a model that keeps the quality asked for.

The search runs real variants (pruned, quantized, converted) through the measurement worker and
prices each with the planner's serving answer at the stated load. It is an ask/tell search
(`search.Search`): the caller asks for the next variant, measures it (the CLI in a worker
synchronously, the app on a thread) and tells the result, so both drive the same code and every
tried variant is kept whatever stops the search.

Modules: `space` (what may be varied, the quality floor, the budget), `trial` (one measured and
priced variant), `search` (the strategy), `result` (the `tradeoff.optimize/1` document and its
text). Qt-free; torch loads only in the worker.
"""
