"""The torch backend: static analysis, timing and transforms of an nn.Module.

Modules: `flops` (extra FLOP formulas and zero-cost ops for the counter), `analysis` (per-module
rows, totals, activation peak), `timing` (end to end and per layer, by hooks), `pruning`
(structured and unstructured), `precision` (fp16/bf16/tf32/int8 conversion), and `backend`
(`BACKEND`, the `profiler.backend.Backend` the rest of the core calls). The rest of the
core reaches it through `profiler.backend`. Importing this package imports nothing heavy.
"""
