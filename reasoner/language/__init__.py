"""The property language: property files (`*.access`) and claims -> property values."""
