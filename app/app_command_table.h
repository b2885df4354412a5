/* One line per subcommand: name, entry point, summary (included by app_commands.c), in the order
 * of the workflow: look at the machine, collect, make goals, train, evaluate, measure. */
APP_ENTRY("info", app_cmd_info, "MuJoCo version, Vulkan devices, EGL renderer, compute backend")
APP_ENTRY("collect", app_cmd_collect, "random-policy episodes into an HDF5 dataset")
APP_ENTRY("dataset", app_cmd_dataset, "dataset stats FILE.h5: size, splits, interaction statistics")
APP_ENTRY("goals", app_cmd_goals, "goal suite: suite.json and goal-NNN.png made by simulating")
APP_ENTRY("train", app_cmd_train,
          "train distance|dynamics: train a network on a dataset into a run folder")
APP_ENTRY("eval-distance", app_cmd_eval_distance,
          "Spearman and ranking accuracy of learned distances and l2 pixels on the val split")
APP_ENTRY("eval-dynamics", app_cmd_eval_dynamics,
          "PSNR/SSIM per predicted step of a video model vs copy-last-frame, filmstrip PNG")
APP_ENTRY("eval", app_cmd_eval,
          "run the planner on a goal suite: success rate, distances, plan time")
APP_ENTRY("heatmap", app_cmd_heatmap,
          "distance to a goal over the block position, arm fixed (paper Fig. 6): PNG + CSV")
APP_ENTRY("bench", app_cmd_bench,
          "benchmarks: collect, oracle, ops, plan, dynamics, train-distance, train-dynamics")
