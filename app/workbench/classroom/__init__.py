"""Running the workbench for a class from the shell: `python -m workbench.classroom --help`."""
