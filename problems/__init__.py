"""Objectives of the lectures with their constants (mu, L, sigma^2, x*, f*) known and checked."""
