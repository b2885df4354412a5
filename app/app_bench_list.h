/* One line per benchmark `mbold bench NAME`: APP_BENCH(name, entry point, summary).
 * Entry points take argv with argv[0] = "bench NAME" and return an exit code. */
APP_BENCH("ops", app_bench_ops, "compute core: GEMM, every conv/linear layer forward and backward, network forward")
