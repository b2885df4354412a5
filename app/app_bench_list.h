/* One line per benchmark `mbold bench NAME`: APP_BENCH(name, entry point, summary).
 * Entry points take argv with argv[0] = "bench NAME" and return an exit code. */
APP_BENCH("collect", app_bench_collect,
          "collection frames/s (physics + 64x64 render + HDF5) with a breakdown")
APP_BENCH("oracle", app_bench_oracle, "oracle dynamics: 200 x 13-step rollouts, one CEM iteration")
APP_BENCH("ops", app_bench_ops,
          "compute core: GEMM, every conv/linear layer forward and backward, network forward")
APP_BENCH("plan", app_bench_plan,
          "one full CEM replan (3 x 200, horizon 13) through the runner: oracle/learned x pixel/q")
APP_BENCH("train-distance", app_bench_train_distance,
          "distance learner: ms per training step at batch 64, phases, resident memory")
APP_BENCH("dynamics", app_bench_dynamics,
          "learned dynamics: 200 x 13-step batched rollout from one context (final frames)")
APP_BENCH("train-dynamics", app_bench_train_dynamics,
          "video model: milliseconds per training step (batch 16 x 13 frames)")
