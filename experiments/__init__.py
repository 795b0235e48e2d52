"""The lectures' claims as experiments: ``python -m experiments list | run NAME... | all``.

Each experiment module registers itself with :func:`experiments.registry.register`; the command
line in :mod:`experiments.__main__` lists and runs them.
"""
