"""What users touch: the command line, the pytest plugin, the renderers, and the exit status (`exit.py`)."""
