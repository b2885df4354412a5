# Sourced by the run and test scripts: settings that tools and drivers need on a headless machine.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/mbold-runtime-$(id -u)}"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
