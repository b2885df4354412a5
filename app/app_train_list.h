/* One line per trainer `mbold train NAME`: APP_TRAINER(name, entry point, summary).
 * Entry points take argv with argv[0] = NAME and return an exit code. */
APP_TRAINER("dynamics", app_train_dynamics, "the action-conditioned video prediction model (Eq. 1)")
APP_TRAINER("distance", app_train_distance,
            "the learned distance: Q-function (TD3 + CQL) or the temporal regression baseline")
