#!/bin/bash
# Draws the README's result plots from the JSON that mbold writes (gnuplot + python3; not needed to
# build or test). usage: tools/plot-results.sh RESULTS_DIR OUT_DIR
#   RESULTS_DIR holds the files named below (see README "Results" for the commands that make them):
#     reach-oracle-pixel.json push1-oracle-pixel.json push1-oracle-q.json
#     push1-learned-pixel.json push1-learned-q.json   (mbold eval --json)
#     dyn-eval.json                                    (mbold eval-dynamics --json)
#     distance-eval.json                               (mbold eval-distance --json)
#     dyn-models/*.json (optional)                     (mbold eval-dynamics --json of several video
#                                                       models; the file name, _ as space, is the label)
#   OUT_DIR gets results-success.png, results-dynamics.png, results-distance.png and, with
#   dyn-models/, results-dynamics-models.png (and results-dynamics-objects.png when their files
#   have the moving-object metrics).
set -euo pipefail
res=${1:?results folder}
out=${2:?output folder}
command -v gnuplot >/dev/null || { echo "plot-results: gnuplot is missing (apt-get install gnuplot-nox)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Success rates with their Wilson 95% intervals: label rate lo hi.
python3 - "$res" > "$tmp/success.dat" <<'EOF'
import json, os, sys
res = sys.argv[1]
for name, label in [("reach-oracle-pixel", "reach\\noracle + pixel"),
                    ("push1-oracle-pixel", "push1\\noracle + pixel"),
                    ("push1-oracle-q", "push1\\noracle + Q"),
                    ("push1-learned-pixel", "push1\\nlearned + pixel"),
                    ("push1-learned-q", "push1\\nlearned + Q")]:
    path = os.path.join(res, name + ".json")
    if not os.path.exists(path):
        continue
    d = json.load(open(path))
    lo, hi = d["success_wilson95"]
    print('"%s" %.4f %.4f %.4f %d' % (label, 100 * d["success_rate"], 100 * lo, 100 * hi, d["episodes"]))
EOF

# Dynamics: PSNR on the changed pixels per predicted step, model and copy-last-frame.
python3 - "$res/dyn-eval.json" > "$tmp/dyn.dat" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for t, (m, c) in enumerate(zip(d["model"]["psnr_changed"], d["copy_last"]["psnr_changed"]), 1):
    print(t, m, c, d["model"]["psnr"][t - 1], d["copy_last"]["psnr"][t - 1])
EOF

# Video models side by side: changed-pixel PSNR per step, one column per model, then copying.
models=0
if [ -d "$res/dyn-models" ]; then
  python3 - "$res/dyn-models" > "$tmp/models.dat" <<'EOF'
import glob, json, os, sys
files = sorted(glob.glob(os.path.join(sys.argv[1], "*.json")))
runs = [json.load(open(f)) for f in files]
labels = [os.path.basename(f)[:-5].replace("_", " ") for f in files]
print("step " + " ".join('"%s"' % l for l in labels) + ' "copy last frame"')
for t in range(len(runs[0]["model"]["psnr_changed"])):
    print(t + 1, " ".join("%.4f" % r["model"]["psnr_changed"][t] for r in runs),
          "%.4f" % runs[0]["copy_last"]["psnr_changed"][t])
EOF
  models=$(($(head -1 "$tmp/models.dat" | grep -o '"[^"]*"' | wc -l) - 1))
  # The share of moved blocks each model draws nearer their true place than where they were.
  python3 - "$res/dyn-models" > "$tmp/objects.dat" <<'EOF'
import glob, json, os, sys
files = [f for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.json")))
         if "objects" in json.load(open(f))]
if files:
    runs = [json.load(open(f))["objects"] for f in files]
    print("step " + " ".join('"%s"' % os.path.basename(f)[:-5].replace("_", " ") for f in files))
    for t in range(len(runs[0]["tracked"])):
        print(t + 1, " ".join("NaN" if r["tracked"][t] is None else "%.4f" % (100 * r["tracked"][t])
                              for r in runs))
EOF
fi

# Distances: Spearman and ranking accuracy per distance.
python3 - "$res/distance-eval.json" > "$tmp/dist.dat" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for key, label in [("distance", "Q-function"), ("regression", "temporal regression"),
                   ("pixel_l2", "pixel l2")]:
    if key in d:
        print('"%s" %.4f %.4f' % (label, d[key]["spearman"], d[key]["ranking_accuracy"]))
EOF

gnuplot <<EOF
set terminal pngcairo size 820,420 font "DejaVu Sans,10"
set style fill solid 0.8 border -1
set grid ytics lc rgb "#dddddd"
set key off

set output "$out/results-success.png"
set bmargin 4
set title "Success rate over 100 goals (bars: Wilson 95% interval)"
set ylabel "success (%)"
set yrange [0:105]
set boxwidth 0.6
set xtics nomirror
plot "$tmp/success.dat" using 0:2:xtic(1) with boxes lc rgb "#3b75af", \
     "" using 0:2:3:4 with yerrorbars lc rgb "black" pt 0 lw 1.5, \
     "" using 0:(\$2+4):(sprintf("%.0f%%", \$2)) with labels

set output "$out/results-dynamics.png"
set title "Video model on the val split: PSNR per predicted step"
set xlabel "predicted step"
set ylabel "PSNR (dB)"
set yrange [*:*]
set xrange [0.5:13.5]
set xtics 1
set key below
set bmargin
plot "$tmp/dyn.dat" using 1:2 with linespoints lw 2 lc rgb "#3b75af" title "model, changed pixels", \
     "" using 1:3 with linespoints lw 2 lc rgb "#e1812c" title "copy last frame, changed pixels", \
     "" using 1:4 with linespoints dt 2 lc rgb "#3b75af" title "model, all pixels", \
     "" using 1:5 with linespoints dt 2 lc rgb "#e1812c" title "copy last frame, all pixels"

set output "$out/results-distance.png"
set title "Distances on held-out push1 trajectories"
unset xlabel
set ylabel ""
set yrange [0:1]
set xrange [-0.5:2.5]
set xtics auto
set style data histograms
set style histogram clustered gap 1
set key below
plot "$tmp/dist.dat" using 2:xtic(1) title "Spearman vs true step offset" lc rgb "#3b75af", \
     "" using 3 title "ranking accuracy vs arm-near negatives" lc rgb "#e1812c"
EOF
if [ "$models" -gt 0 ]; then
  gnuplot <<EOF
set terminal pngcairo size 820,460 font "DejaVu Sans,10"
set grid ytics lc rgb "#dddddd"
set output "$out/results-dynamics-models.png"
set title "Video models on the val split: PSNR on the changed pixels per predicted step"
set xlabel "predicted step"
set ylabel "PSNR (dB)"
set xrange [0.5:13.5]
set xtics 1
set key below
plot for [i=2:$((models + 1))] "$tmp/models.dat" using 1:i with linespoints lw 2 title columnheader(i), \
     "" using 1:$((models + 2)) with linespoints lw 2 dt 2 lc rgb "#888888" title columnheader($((models + 2)))
EOF
  echo "plot-results: wrote $out/results-dynamics-models.png"
  if [ -s "$tmp/objects.dat" ]; then
    n=$(($(head -1 "$tmp/objects.dat" | grep -o '"[^"]*"' | wc -l) + 1))
    gnuplot <<EOF
set terminal pngcairo size 820,460 font "DejaVu Sans,10"
set grid ytics lc rgb "#dddddd"
set output "$out/results-dynamics-objects.png"
set title "Moved blocks drawn nearer their true place than where they were (val split)"
set xlabel "predicted step"
set ylabel "tracked (% of moved blocks)"
set xrange [0.5:13.5]
set yrange [0:*]
set xtics 1
set key below
plot for [i=2:$n] "$tmp/objects.dat" using 1:i with linespoints lw 2 title columnheader(i)
EOF
    echo "plot-results: wrote $out/results-dynamics-objects.png"
  fi
fi
echo "plot-results: wrote $out/results-success.png, results-dynamics.png, results-distance.png"
