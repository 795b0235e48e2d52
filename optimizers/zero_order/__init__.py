"""Zero-order methods: gradient estimators from function values, ZO-GD, Nelder-Mead, CMA-ES,
the (1+1)-evolution strategy and a genetic algorithm."""
