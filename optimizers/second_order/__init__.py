"""Second-order and quasi-Newton methods: Newton (pure, damped, Newton-CG), BFGS, L-BFGS."""
