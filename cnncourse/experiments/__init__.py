"""Chapter experiments that show a claim of the course with a short training run (fast and full mode)."""
