"""Tradeoff Studio's Qt-free core: loading models, counting, measuring, what-if transforms.

Importing this package loads neither torch nor onnxruntime; the modules that need them import
them inside their functions, so the app's window can appear before any of them is loaded.
"""

__version__ = "0.1.0"
