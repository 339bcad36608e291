# Sourced by tests/neon/run_neon_tests.sh (AArch64) and tests/armhf/run_armhf_tests.sh (32-bit ARM):
# cross-build the kernel layer (tests/neon/CMakeLists.txt) and run its test programs under
# qemu-user. The caller sets, before sourcing:
#   script   its name, for messages       triple  the cross toolchain prefix (aarch64-linux-gnu)
#   qemu     qemu-aarch64 or qemu-arm     toolchain  cmake/toolchain-*.cmake
#   build    the build folder             jobs    parallel compile jobs
# then calls build_kernel_tests, run_settings and check_isa_choice, and finish.
sysroot=/usr/$triple
failures=0
programs=()

build_kernel_tests() {  # configure and build; fills `programs`
    local tool
    for tool in "$triple-g++" "$qemu" cmake; do
        command -v "$tool" > /dev/null || { echo "$script: $tool not found" >&2; exit 1; }
    done
    [[ -f /usr/src/googletest/CMakeLists.txt ]] || { echo "$script: /usr/src/googletest missing (libgtest-dev)" >&2; exit 1; }
    echo "== configure and build the $triple kernel layer in $build"
    cmake -S "$root/tests/neon" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
        -DCMAKE_BUILD_TYPE=Release > "$build.configure.log" 2>&1 || { cat "$build.configure.log"; exit 1; }
    rm -f "$build.configure.log"
    cmake --build "$build" -j"$jobs"
    local program
    for program in "$build"/bin/test_*; do
        [[ -x $program ]] && programs+=("$program")
    done
    [[ ${#programs[@]} -gt 0 ]] || { echo "$script: no test programs built" >&2; exit 1; }
}

run() {  # run CPU ISA PROGRAM [ARGS...]: one program under qemu, BITNET_ISA=ISA (empty: unset)
    local cpu=$1 isa=$2
    shift 2
    echo "== $qemu -cpu $cpu, BITNET_ISA=${isa:-(unset)}: $(basename "$1") ${*:2}"
    if [[ -n $isa ]]; then
        env BITNET_ISA="$isa" "$qemu" -L "$sysroot" -cpu "$cpu" "$@"
    else
        env -u BITNET_ISA "$qemu" -L "$sysroot" -cpu "$cpu" "$@"
    fi
}

# run_settings FILTER CPU:ISA...: every program matching FILTER (a bash pattern on the program's
# name) under each CPU:ISA setting; the process-wide choice test is left to check_isa_choice
# (it re-executes itself, which qemu-user cannot do without binfmt_misc).
run_settings() {
    local filter=$1 setting cpu isa program
    shift
    for setting in "$@"; do
        IFS=: read -r cpu isa <<< "$setting"
        for program in "${programs[@]}"; do
            # shellcheck disable=SC2053  # FILTER is a pattern
            [[ $(basename "$program") == $filter ]] || continue
            if ! run "$cpu" "$isa" "$program" --gtest_brief=1 --gtest_filter=-KernelDispatch.ProcessChoiceFollowsBitnetIsa; then
                echo "FAILED: $(basename "$program") on $cpu with BITNET_ISA=${isa:-(unset)}" >&2
                failures=$((failures + 1))
            fi
        done
    done
}

# check_isa_choice CPU:ISA:EXPECTED...: BITNET_ISA -> the table cpu_kernels() picks on that CPU.
check_isa_choice() {
    local case cpu isa expected
    [[ -x $build/bin/test_kernels ]] || return 0
    for case in "$@"; do
        IFS=: read -r cpu isa expected <<< "$case"
        if ! BITNET_KERNEL_TEST_EXPECT=$expected run "$cpu" "$isa" "$build/bin/test_kernels" --gtest_brief=1 \
            --gtest_filter=KernelDispatch.ProcessChoiceFollowsBitnetIsa; then
            echo "FAILED: BITNET_ISA=${isa:-(unset)} on $cpu should choose $expected" >&2
            failures=$((failures + 1))
        fi
    done
}

finish() {
    if [[ $failures -gt 0 ]]; then
        echo "$script: $failures FAILED run(s)" >&2
        exit 1
    fi
    echo "$script: all passed (${#programs[@]} program(s): $(basename -a "${programs[@]}" | tr '\n' ' '))"
}
