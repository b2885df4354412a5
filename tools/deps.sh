#!/usr/bin/env bash
# Installs the Debian 12 packages that build, run and test MBOLD Workbench, if any is missing.
# Idempotent: does nothing (and needs no network) when everything is present.
set -euo pipefail
packages=(
  build-essential pkg-config meson ninja-build python3
  libgtk-4-dev libcairo2-dev libjson-glib-dev
  libmujoco-dev libegl-dev libegl-mesa0 libgl1-mesa-dri libgl-dev libgles-dev
  libvulkan-dev mesa-vulkan-drivers vulkan-validationlayers glslc
  libcglm-dev libpng-dev libhdf5-dev libopenblas-dev libflann-dev
  xvfb xauth xdotool imagemagick
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
