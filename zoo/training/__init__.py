"""Training: recipes, the trainer, metrics, checkpoints and reports."""
