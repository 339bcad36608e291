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
  g++-mingw-w64-x86-64-posix wine64 googletest     # Windows cross build, its tests under Wine (docs/windows.md)
  g++-arm-linux-gnueabihf                          # 32-bit ARM (armhf) kernels under qemu-arm
  lua5.4 liblua5.4-dev                             # Lua binding
  cargo rustc                                      # Rust binding (cargo test --offline)
  nlohmann-json3-dev libsentencepiece-dev          # bitnet convert and serve: JSON; tokenizer.model
  libcpp-httplib-dev                               # bitnet serve: HTTP
  nodejs curl haproxy chromium                     # bitnet serve: OpenAI client, scale-out and chat-page tests
  libopenblas-dev                                  # bitnet train: matrix products (tools only, not libbitnet)
  clang libclang-rt-14-dev                         # fuzz targets (libFuzzer) and the ThreadSanitizer build
  file                                             # the static bitnet's check (tests/static/)
  ccache                                           # .ci/run: objects shared between builds (.ci-cache)
)
# npm: Debian's package, unless the machine's Node.js already brings its own (NodeSource's nodejs
# includes npm and conflicts with Debian's npm package).
command -v npm > /dev/null || packages+=(npm)
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}"
# The OpenAI client library for tests/serve/test_openai_client.sh, pinned by its package-lock.json:
# installed now, so that the tests themselves need no network beyond loopback.
(cd "$(dirname "$0")/../tests/serve/openai_client" && npm ci --no-audit --no-fund --loglevel=error)
