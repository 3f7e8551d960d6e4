"""Fine-tuning from the viewer and the choice of weights."""
