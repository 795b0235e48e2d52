"""Learning-rate schedules: pure, closed-form, vectorised functions of the step count."""
