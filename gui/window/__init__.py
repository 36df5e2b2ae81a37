"""The main window and its parts (see gui/window/main_window.py)."""
