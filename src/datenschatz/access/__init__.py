"""Access: who may see or do what. The only place that decides."""
