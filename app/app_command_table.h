/* One line per subcommand: name, entry point, summary (included by app_commands.c). */
