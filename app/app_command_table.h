/* One line per subcommand: name, entry point, summary (included by app_commands.c). */
APP_ENTRY("bench", app_cmd_bench, "benchmarks: collect, ops, train-distance, train-dynamics, plan")
