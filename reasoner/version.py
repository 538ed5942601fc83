"""The version of reasoner: one place, below every floor (the facade re-exports it as `reasoner.__version__`;
`--version`, JSON and SARIF reports print it), so no module inside the package imports the facade."""

__version__ = "0.1.0"
