/* One line per trainer `mbold train NAME`: APP_TRAINER(name, entry point, summary).
 * Entry points take argv with argv[0] = NAME and return an exit code. */
APP_TRAINER("dynamics", app_train_dynamics, "the action-conditioned video prediction model (Eq. 1)")
