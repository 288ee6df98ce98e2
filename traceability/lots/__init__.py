"""Output lots: dismantled fractions on their way to downstream treatment."""
