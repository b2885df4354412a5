/* One line per subcommand entry point (included by app_commands.c with APP_COMMAND defined). */
APP_COMMAND(app_cmd_bench)
APP_COMMAND(app_cmd_collect)
APP_COMMAND(app_cmd_dataset)
APP_COMMAND(app_cmd_goals)
APP_COMMAND(app_cmd_train)
APP_COMMAND(app_cmd_eval_dynamics)
