// Wall-clock time per op kind, for finding where decode time goes. A decorator over any Ops:
// each op runs in the wrapped backend, timed. Enabled per context by the environment variable
// BITNET_PROFILE=1; the context logs the table (at info level) when it is freed. Timing is only
// meaningful for backends that run ops as they are called (the CPU backend).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>

#include "runtime/ops.h"

namespace bitnet {

class OpProfile final : public Ops {
public:
    explicit OpProfile(Ops &inner) : inner_(inner) {}

    void begin(const BatchPlan &plan) override;
    void embed(const Weight &token_embd) override;
    void rms_norm(Act in, const Weight &weight, Act out) override;
    void project(const Weight &weight, Act in, Act out) override;
    void rope(Act buffer, int32_t n_heads) override;
    void attention(int32_t layer) override;
    void gated_activation(FfnActivation activation) override;
    void add(Act into, Act from) override;
    void output(const Weight &lm_head, Act normed) override;
    void end() override;

    // One line per op kind: total milliseconds, calls, the longest call and the share of the time
    // spent in ops.
    std::string report() const;

private:
    enum Kind { Embed, RmsNorm, ProjectTernary, ProjectFloat, Rope, Attention, Activation, Add, Output, Finish, kKinds };
    struct Totals {
        double seconds = 0.0;
        double longest = 0.0;  // the slowest single call: stalls show here
        uint64_t calls = 0;
    };
    template <class Op>
    void timed(Kind kind, Op &&op) {
        const auto start = std::chrono::steady_clock::now();
        op();
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        Totals &totals = totals_[kind];
        totals.seconds += seconds;
        totals.longest = seconds > totals.longest ? seconds : totals.longest;
        ++totals.calls;
    }

    Ops &inner_;
    std::array<Totals, kKinds> totals_{};
    uint64_t decodes_ = 0;
    uint64_t tokens_ = 0;
};

}  // namespace bitnet
