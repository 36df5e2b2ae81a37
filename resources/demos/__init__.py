"""Data of demo:digits-cnn: trained weights and held-out samples (profiler/demos_digits_train.py writes them)."""
