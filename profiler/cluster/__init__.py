"""Measuring on a Ray cluster (`--cluster ADDRESS`, the optional `cluster` extra).

Each variant is one Ray task (`node.run_on_node`) that runs the same measurement worker as a
local run (profiler/worker.py: same task, same time limit, same JSON) on the node Ray picks,
asking for a whole GPU (`num_gpus=1`) for a CUDA measurement and for whole cores for a CPU one.
The model file and `--inputs` travel by content hash (`shipping.py`), the trust decision travels
as the local user's flag and is enforced by the same loader on the node, and results come back
as JSON text decoded by the contract's own `from_dict` (`client.py`).

Nothing here imports Ray at module level: `import profiler.cluster` costs nothing without the extra.
"""

from __future__ import annotations

#: The pip extra that brings Ray (pyproject.toml), named in the error when it is missing.
EXTRA = "cluster"
