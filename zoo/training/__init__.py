"""Training: recipes, the trainer, checkpoints, and sample-quality measures."""
