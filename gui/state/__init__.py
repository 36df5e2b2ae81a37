"""The app's state as plain, Qt-free data: the open model and its variants (`Workspace`), the
per-layer figures both layer views show (`LayerData`). Qt item models over them live in
gui/models/, widgets in gui/widgets/."""
