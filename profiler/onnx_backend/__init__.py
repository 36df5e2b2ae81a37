"""The ONNX backend: static analysis and timing of .onnx files with onnxruntime.

Modules: `formulas` (per-op MAC formulas and op tables), `graph` (helpers over graph protos),
`validation` (safe loading: sizes, structure, external data), `folding` (bounded constant
folding), `shapes` (shape inference, ONNX's and onnxruntime's symbolic one), `analysis` (the
graph walk: rows, totals, activation peak), `timing` (onnxruntime sessions, end to end and per
node), `transforms` (export from torch, int8 quantization, unstructured pruning), and `backend`
(`BACKEND`, the `profiler.backend.Backend` the rest of the core calls). The rest of the
core reaches it through `profiler.backend`. Importing this package imports nothing heavy.
"""
