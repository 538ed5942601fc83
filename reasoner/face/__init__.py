"""What users touch: the command line, the pytest plugin and the renderers."""
