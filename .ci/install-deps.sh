#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need. Run as root (or with sudo).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
packages=(
  build-essential cmake pkg-config git
  libzstd-dev libxxhash-dev                        # state files
  libgtest-dev libbenchmark-dev                    # tests and kernel micro-benchmarks
  libvulkan-dev glslang-tools mesa-vulkan-drivers vulkan-tools  # Vulkan backend; lavapipe CPU device
  unicode-data python3                             # tokenizer table generator input
  qemu-user g++-aarch64-linux-gnu                  # NEON kernels under emulation
  lua5.4 liblua5.4-dev                             # Lua binding
  cargo rustc                                      # Rust binding (cargo test --offline)
  libopenblas-dev                                  # bitnet train: matrix products (tools only, not libbitnet)
  nlohmann-json3-dev libsentencepiece-dev          # bitnet convert (JSON, tokenizer.model); bitnet train (tokenizer)
  clang libclang-rt-14-dev                         # fuzz targets (libFuzzer) and the ThreadSanitizer build
)
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}"
