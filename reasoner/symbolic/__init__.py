"""Symbolic core: terms, automata, the finite domain, the encoder, the solver and the decoder."""
