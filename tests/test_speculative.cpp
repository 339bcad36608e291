// Speculative decoding (bitnet_speculative_*): greedy output token for token equal to plain greedy
// decoding for both draft sources on CPU and Vulkan; stochastic output distributed as the
// target's sampler says (chi-square against the distribution computed here from the target's
// logits, independently of the library's sampler code); bad input answered with errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "bitnet.h"
#include "support/engine_runner.h"
#include "support/test_support.h"

namespace {

using bitnet_test::ContextPtr;
using bitnet_test::ModelPtr;

struct SamplerDeleter {
    void operator()(bitnet_sampler *sampler) const { bitnet_sampler_free(sampler); }
};
using SamplerPtr = std::unique_ptr<bitnet_sampler, SamplerDeleter>;
struct SpeculativeDeleter {
    void operator()(bitnet_speculative *helper) const { bitnet_speculative_free(helper); }
};
using SpeculativePtr = std::unique_ptr<bitnet_speculative, SpeculativeDeleter>;

constexpr int32_t kDraftMax = 6;

ContextPtr new_context(const bitnet_model *model, bitnet_backend_type backend, std::string *problem = nullptr,
                       uint32_t n_seq_max = 1) {
    bitnet_context_params params = bitnet_context_default_params();
    params.n_seq_max = n_seq_max;
    params.n_ctx = 512;
    params.n_batch = 64;
    params.n_outputs_max = kDraftMax + 1;
    // One thread: the tiny models gain nothing from two, and a loaded machine makes them wait.
    params.n_threads = 1;
    params.backend = backend;
    bitnet_context *context = nullptr;
    if (bitnet_context_new(model, &params, &context) != BITNET_OK && problem) *problem = bitnet_last_error();
    return ContextPtr(context);
}

SamplerPtr chain_of(std::vector<bitnet_sampler *> members) {
    bitnet_sampler *chain = nullptr;
    EXPECT_EQ(bitnet_sampler_chain_new(nullptr, &chain), BITNET_OK);
    for (bitnet_sampler *member : members) EXPECT_EQ(bitnet_sampler_chain_add(chain, member), BITNET_OK);
    return SamplerPtr(chain);
}

SamplerPtr greedy_chain() {
    bitnet_sampler *greedy = nullptr;
    EXPECT_EQ(bitnet_sampler_init_greedy(&greedy), BITNET_OK);
    return chain_of({greedy});
}

// Decode tokens [first, last) of sequence 0 at their positions, logits for the last one.
void decode_range(bitnet_context *context, const std::vector<bitnet_token> &tokens, size_t first, size_t last) {
    bitnet_batch *batch = nullptr;
    ASSERT_EQ(bitnet_batch_new(static_cast<int32_t>(std::max<size_t>(last - first, 1)), &batch), BITNET_OK);
    const int32_t seq = 0;
    for (size_t i = first; i < last; ++i) {
        ASSERT_EQ(bitnet_batch_add(batch, tokens[i], static_cast<int32_t>(i), &seq, 1, i + 1 == last), BITNET_OK);
    }
    if (last > first) {
        ASSERT_EQ(bitnet_decode(context, batch), BITNET_OK) << bitnet_last_error();
    }
    bitnet_batch_free(batch);
}

// Plain greedy decoding, one token per decode: the reference.
std::vector<bitnet_token> plain_greedy(const bitnet_model *model, bitnet_backend_type backend,
                                       const std::vector<bitnet_token> &prompt, int n_generate) {
    ContextPtr context = new_context(model, backend);
    EXPECT_TRUE(context);
    SamplerPtr sampler = greedy_chain();
    std::vector<bitnet_token> tokens = prompt;
    decode_range(context.get(), tokens, 0, tokens.size());
    for (int i = 0; i < n_generate; ++i) {
        const bitnet_token next = bitnet_sampler_sample(sampler.get(), context.get(), -1);
        EXPECT_NE(next, BITNET_TOKEN_NULL) << bitnet_last_error();
        tokens.push_back(next);
        decode_range(context.get(), tokens, tokens.size() - 1, tokens.size());
    }
    return std::vector<bitnet_token>(tokens.begin() + static_cast<long>(prompt.size()), tokens.end());
}

struct SpeculativeRun {
    std::vector<bitnet_token> generated;
    bitnet_speculative_stats stats{};
};

// n_generate tokens through the helper (stop_at_eog off, as the plain loop above does not stop).
SpeculativeRun speculative_run(bitnet_context *target, bitnet_context *draft, bitnet_sampler *sampler,
                               const std::vector<bitnet_token> &prompt, int n_generate, uint32_t seed = 7,
                               int32_t lookup_ngram = 2) {
    SpeculativeRun run;
    bitnet_speculative_params params = bitnet_speculative_default_params();
    params.draft_context = draft;
    params.draft_max = kDraftMax;
    params.lookup_ngram = lookup_ngram;
    params.seed = seed;
    params.stop_at_eog = false;
    bitnet_speculative *raw = nullptr;
    EXPECT_EQ(bitnet_speculative_new(target, &params, &raw), BITNET_OK) << bitnet_last_error();
    SpeculativePtr helper(raw);
    if (!helper) return run;
    std::vector<bitnet_token> tokens = prompt;
    decode_range(target, tokens, 0, tokens.size() - 1);
    bitnet_token out[kDraftMax + 1];
    while (static_cast<int>(run.generated.size()) < n_generate) {
        const int32_t room = std::min<int32_t>(kDraftMax + 1, n_generate - static_cast<int32_t>(run.generated.size()));
        const int32_t n = bitnet_speculative_generate(helper.get(), sampler, 0, tokens.data(),
                                                      static_cast<int32_t>(tokens.size()), out, room);
        EXPECT_GE(n, 1) << bitnet_last_error();
        if (n < 1) break;
        tokens.insert(tokens.end(), out, out + n);
        run.generated.insert(run.generated.end(), out, out + n);
    }
    run.stats.struct_size = sizeof run.stats;
    EXPECT_EQ(bitnet_speculative_get_stats(helper.get(), &run.stats), BITNET_OK);
    return run;
}

// Prompts: random ids, and ones that repeat a passage (where prompt lookup has matches).
std::vector<std::vector<bitnet_token>> test_prompts(int32_t n_vocab) {
    std::vector<std::vector<bitnet_token>> prompts;
    for (uint32_t seed : {1u, 2u}) {
        std::vector<bitnet_token> prompt;
        uint32_t state = seed * 2654435761u;
        for (int i = 0; i < 12; ++i) prompt.push_back(static_cast<bitnet_token>((state = state * 1664525u + 1013904223u) >> 8) % n_vocab);
        prompts.push_back(prompt);
    }
    std::vector<bitnet_token> passage = prompts[0];
    passage.insert(passage.end(), prompts[1].begin(), prompts[1].end());
    std::vector<bitnet_token> repeated = passage;
    repeated.insert(repeated.end(), passage.begin(), passage.begin() + 8);
    prompts.push_back(repeated);
    return prompts;
}

class SpeculativeGreedy : public ::testing::TestWithParam<bitnet_backend_type> {};

TEST_P(SpeculativeGreedy, OutputIsPlainGreedyForBothDraftSources) {
    const bitnet_backend_type backend = GetParam();
    ModelPtr target_model = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "i2_s"));
    ModelPtr draft_model = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "i2_s", "relu2", 2));
    ASSERT_TRUE(target_model && draft_model);
    if (backend == BITNET_BACKEND_VULKAN) {
        std::string problem;
        ContextPtr probe = new_context(target_model.get(), backend, &problem);
        if (!probe) {
            const char *allow = std::getenv("BITNET_TEST_ALLOW_NO_VULKAN");
            if (std::strstr(bitnet_build_info(), "backends cpu,vulkan") == nullptr || (allow && std::strcmp(allow, "1") == 0)) {
                GTEST_SKIP() << "skipped: no usable Vulkan device: " << problem;
            }
            FAIL() << "no usable Vulkan device: " << problem << " (set BITNET_TEST_ALLOW_NO_VULKAN=1 to skip)";
        }
    }
    const int n_generate = 200;
    int64_t lookup_accepted = 0, model_accepted = 0;
    for (const auto &prompt : test_prompts(bitnet_model_n_vocab(target_model.get()))) {
        const std::vector<bitnet_token> expected = plain_greedy(target_model.get(), backend, prompt, n_generate);
        ASSERT_EQ(expected.size(), static_cast<size_t>(n_generate));
        {
            ContextPtr target = new_context(target_model.get(), backend);
            SamplerPtr sampler = greedy_chain();
            const SpeculativeRun run = speculative_run(target.get(), nullptr, sampler.get(), prompt, n_generate);
            EXPECT_EQ(run.generated, expected) << "prompt lookup";
            EXPECT_EQ(run.stats.n_generated, n_generate);
            lookup_accepted += run.stats.n_accepted;
        }
        {
            // A different model drafts (rejections happen), and on the CPU the target model itself
            // drafts too (every draft is accepted: the longest verify batches).
            std::vector<const bitnet_model *> drafters = {draft_model.get()};
            if (backend == BITNET_BACKEND_CPU) drafters.push_back(target_model.get());
            for (const bitnet_model *drafter : drafters) {
                ContextPtr target = new_context(target_model.get(), backend);
                ContextPtr draft = new_context(drafter, BITNET_BACKEND_CPU);
                SamplerPtr sampler = greedy_chain();
                const SpeculativeRun run = speculative_run(target.get(), draft.get(), sampler.get(), prompt, n_generate);
                EXPECT_EQ(run.generated, expected) << "draft model";
                if (drafter == target_model.get()) {
                    EXPECT_GT(run.stats.n_accepted, run.stats.n_drafted * 9 / 10) << "a model drafting for itself";
                }
                model_accepted += run.stats.n_accepted;
            }
        }
    }
    // The checks above would pass with drafts that are never used; these show they were.
    EXPECT_GT(lookup_accepted, 0);
    EXPECT_GT(model_accepted, 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, SpeculativeGreedy, ::testing::Values(BITNET_BACKEND_CPU, BITNET_BACKEND_VULKAN),
                         [](const auto &info) { return info.param == BITNET_BACKEND_CPU ? "Cpu" : "Vulkan"; });

// The distribution of top-k 8 at temperature 1.5 computed here from logits (the reference).
constexpr int kTopK = 8;
constexpr float kTemperature = 1.5f;

std::vector<double> reference_distribution(const float *logits, int32_t n_vocab) {
    std::vector<int32_t> order(static_cast<size_t>(n_vocab));
    for (int32_t i = 0; i < n_vocab; ++i) order[static_cast<size_t>(i)] = i;
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
    std::vector<double> p(static_cast<size_t>(n_vocab), 0.0);
    double total = 0.0;
    for (int k = 0; k < kTopK; ++k) {
        const int32_t id = order[static_cast<size_t>(k)];
        p[static_cast<size_t>(id)] = std::exp((static_cast<double>(logits[id]) - logits[order[0]]) / kTemperature);
        total += p[static_cast<size_t>(id)];
    }
    for (double &v : p) v /= total;
    return p;
}

SamplerPtr stochastic_chain(uint32_t seed) {
    bitnet_sampler *top_k = nullptr, *temperature = nullptr, *dist = nullptr;
    EXPECT_EQ(bitnet_sampler_init_top_k(kTopK, &top_k), BITNET_OK);
    EXPECT_EQ(bitnet_sampler_init_temperature(kTemperature, &temperature), BITNET_OK);
    EXPECT_EQ(bitnet_sampler_init_dist(seed, &dist), BITNET_OK);
    return chain_of({top_k, temperature, dist});
}

// Pearson's chi-square of `counts` against `expected` probabilities, cells with expectation below
// 5 pooled; returns the statistic and the degrees of freedom.
std::pair<double, int> chi_square(const std::map<int, int> &counts, const std::map<int, double> &expected, int n) {
    double statistic = 0.0, pooled_expected = 0.0, pooled_observed = 0.0;
    int cells = 0;
    for (const auto &[cell, probability] : expected) {
        const double e = probability * n;
        const auto found = counts.find(cell);
        const double o = found == counts.end() ? 0.0 : found->second;
        if (e < 5.0) {
            pooled_expected += e;
            pooled_observed += o;
            continue;
        }
        statistic += (o - e) * (o - e) / e;
        ++cells;
    }
    if (pooled_expected > 0.0) {
        statistic += (pooled_observed - pooled_expected) * (pooled_observed - pooled_expected) / std::max(pooled_expected, 1e-9);
        ++cells;
    }
    return {statistic, cells - 1};
}

// Upper 0.999 quantile of chi-square with df degrees of freedom (Wilson-Hilferty), so a correct
// implementation fails one run in a thousand (the seeds are fixed: it passes or fails for good).
double chi_square_critical(int df) {
    const double z = 3.090232;
    const double a = 2.0 / (9.0 * df);
    return df * std::pow(1.0 - a + z * std::sqrt(a), 3.0);
}

class SpeculativeSampling : public ::testing::TestWithParam<bool> {};

// The pair of the first two generated tokens, over many runs, against the target's exact joint
// distribution p(t1) p(t2 | t1) under top-k + temperature. A draft model (another synthetic model:
// its top-8 differs from the target's) or prompt lookup drafts.
TEST_P(SpeculativeSampling, FirstTwoTokensFollowTheTargetDistribution) {
    const bool use_draft_model = GetParam();
    // The draft: the same ternary weights with another FFN activation (llama.cpp's `bitnet`
    // architecture in TQ2_0 names it), so its distribution is close to the target's but not equal:
    // drafts are accepted and rejected.
    ModelPtr target_model = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "tq2_0", "relu2", 1));
    ModelPtr draft_model = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "tq2_0", "silu", 1));
    ASSERT_TRUE(target_model && draft_model);
    const int32_t n_vocab = bitnet_model_n_vocab(target_model.get());
    ContextPtr reference = new_context(target_model.get(), BITNET_BACKEND_CPU);
    // With prompt lookup the prompt ends with a repeated bigram (17, 42), so the draft is the token
    // that followed it earlier: choose that token among the target's likely next ones, so that it
    // is sometimes accepted and sometimes not.
    std::vector<bitnet_token> prompt = {5, 17, 42, 0, 3, 17, 42};
    auto next_distribution = [&](const std::vector<bitnet_token> &tokens) {
        EXPECT_EQ(bitnet_memory_clear(reference.get()), BITNET_OK);
        decode_range(reference.get(), tokens, 0, tokens.size());
        return reference_distribution(bitnet_get_logits(reference.get(), -1), n_vocab);
    };
    bitnet_token best = 0;
    double best_p = 0.0;
    for (bitnet_token candidate = 0; candidate < n_vocab; ++candidate) {
        prompt[3] = candidate;
        const double p = next_distribution(prompt)[static_cast<size_t>(candidate)];
        if (p > best_p) best = candidate, best_p = p;
    }
    prompt[3] = best;
    const std::vector<double> first = next_distribution(prompt);
    ASSERT_GT(first[static_cast<size_t>(best)], 0.05) << "no token makes a useful lookup draft";
    std::map<int, double> expected;
    for (int32_t t1 = 0; t1 < n_vocab; ++t1) {
        if (first[static_cast<size_t>(t1)] == 0.0) continue;
        std::vector<bitnet_token> extended = prompt;
        extended.push_back(t1);
        ASSERT_EQ(bitnet_seq_rm(reference.get(), 0, static_cast<int32_t>(prompt.size()), -1), BITNET_OK);
        decode_range(reference.get(), extended, prompt.size(), extended.size());
        const std::vector<double> second = reference_distribution(bitnet_get_logits(reference.get(), -1), n_vocab);
        for (int32_t t2 = 0; t2 < n_vocab; ++t2) {
            if (second[static_cast<size_t>(t2)] > 0.0) expected[t1 * n_vocab + t2] = first[static_cast<size_t>(t1)] * second[static_cast<size_t>(t2)];
        }
    }

    ContextPtr target = new_context(target_model.get(), BITNET_BACKEND_CPU);
    ContextPtr draft = new_context(draft_model.get(), BITNET_BACKEND_CPU);
    bitnet_speculative_params params = bitnet_speculative_default_params();
    params.draft_context = use_draft_model ? draft.get() : nullptr;
    params.draft_max = 2;
    params.lookup_ngram = 2;
    params.seed = 12345;
    bitnet_speculative *raw = nullptr;
    ASSERT_EQ(bitnet_speculative_new(target.get(), &params, &raw), BITNET_OK) << bitnet_last_error();
    SpeculativePtr helper(raw);
    SamplerPtr sampler = stochastic_chain(1);
    decode_range(target.get(), prompt, 0, prompt.size() - 1);

    const int n_runs = 3000;
    std::map<int, int> counts;
    for (int run = 0; run < n_runs; ++run) {
        std::vector<bitnet_token> tokens = prompt;
        while (tokens.size() < prompt.size() + 2) {
            bitnet_token out[3];
            const int32_t room = static_cast<int32_t>(prompt.size() + 2 - tokens.size());
            const int32_t n = bitnet_speculative_generate(helper.get(), sampler.get(), 0, tokens.data(),
                                                          static_cast<int32_t>(tokens.size()), out, room);
            ASSERT_GE(n, 1) << bitnet_last_error();
            tokens.insert(tokens.end(), out, out + n);
        }
        ++counts[tokens[prompt.size()] * n_vocab + tokens[prompt.size() + 1]];
        // Back to the prompt without its last token for the next run.
        ASSERT_EQ(bitnet_seq_rm(target.get(), 0, static_cast<int32_t>(prompt.size()) - 1, -1), BITNET_OK);
    }
    bitnet_speculative_stats stats{};
    stats.struct_size = sizeof stats;
    ASSERT_EQ(bitnet_speculative_get_stats(helper.get(), &stats), BITNET_OK);
    // Drafts were both accepted and rejected, so both branches of the rule were exercised.
    EXPECT_GT(stats.n_accepted, stats.n_drafted / 20);
    EXPECT_LT(stats.n_accepted, stats.n_drafted);
    for (const auto &[cell, count] : counts) EXPECT_TRUE(expected.count(cell)) << "token pair outside the support: " << cell;
    const auto [statistic, df] = chi_square(counts, expected, n_runs);
    std::printf("chi-square %.1f with %d degrees of freedom (critical %.1f at p = 0.001); acceptance %lld/%lld\n",
                statistic, df, chi_square_critical(df), static_cast<long long>(stats.n_accepted),
                static_cast<long long>(stats.n_drafted));
    EXPECT_LT(statistic, chi_square_critical(df));
}

INSTANTIATE_TEST_SUITE_P(DraftSources, SpeculativeSampling, ::testing::Values(false, true),
                         [](const auto &info) { return info.param ? "DraftModel" : "PromptLookup"; });

// A seeded sampler's tokens do not depend on what else the helper generates: the accept/reject
// draws come from the sampler's own stream, not from one the helper shares between sequences
// (`bitnet serve` runs every client's sequence through one helper; a seeded request must give the
// same text whoever else is being served). Sequence 0 generated alone, then again with sequence 1
// (another seed) taking turns with it through the same helper.
class SpeculativeSeeds : public ::testing::TestWithParam<bool> {};

TEST_P(SpeculativeSeeds, SeededSamplerGivesTheSameTokensWhateverElseTheHelperGenerates) {
    const bool use_draft_model = GetParam();
    ModelPtr target_model = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "i2_s"));
    ModelPtr draft_model = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "i2_s", "relu2", 2));
    ASSERT_TRUE(target_model && draft_model);
    const std::vector<std::vector<bitnet_token>> prompts = test_prompts(bitnet_model_n_vocab(target_model.get()));
    const std::vector<bitnet_token> &prompt0 = prompts[2], &prompt1 = prompts[0];  // [2] repeats a passage
    constexpr size_t kGenerate = 40;

    // Generates with sequence 0 alone (with_other false) or alternating with sequence 1.
    auto generate = [&](bool with_other) {
        ContextPtr target = new_context(target_model.get(), BITNET_BACKEND_CPU, nullptr, 2);
        ContextPtr draft = new_context(draft_model.get(), BITNET_BACKEND_CPU, nullptr, 2);
        EXPECT_TRUE(target && draft) << bitnet_last_error();
        bitnet_speculative_params params = bitnet_speculative_default_params();
        params.draft_context = use_draft_model ? draft.get() : nullptr;
        params.draft_max = kDraftMax;
        params.lookup_ngram = 2;
        params.seed = 99;
        params.stop_at_eog = false;
        bitnet_speculative *raw = nullptr;
        EXPECT_EQ(bitnet_speculative_new(target.get(), &params, &raw), BITNET_OK) << bitnet_last_error();
        SpeculativePtr helper(raw);
        std::vector<bitnet_token> tokens[2] = {prompt0, prompt1};
        SamplerPtr samplers[2] = {stochastic_chain(3), stochastic_chain(4)};
        const int n_sequences = with_other ? 2 : 1;
        bitnet_batch *batch = nullptr;
        EXPECT_EQ(bitnet_batch_new(64, &batch), BITNET_OK);
        for (int32_t seq = 0; seq < n_sequences; ++seq) {
            const std::vector<bitnet_token> &prompt = tokens[seq];
            bitnet_batch_clear(batch);
            for (size_t i = 0; i + 1 < prompt.size(); ++i) {
                EXPECT_EQ(bitnet_batch_add(batch, prompt[i], static_cast<int32_t>(i), &seq, 1, i + 2 == prompt.size()),
                          BITNET_OK);
            }
            EXPECT_EQ(bitnet_decode(target.get(), batch), BITNET_OK) << bitnet_last_error();
        }
        bitnet_batch_free(batch);
        while (tokens[0].size() < prompt0.size() + kGenerate) {
            for (int32_t seq = 0; seq < n_sequences; ++seq) {
                bitnet_token out[kDraftMax + 1];
                const int32_t n = bitnet_speculative_generate(helper.get(), samplers[seq].get(), seq, tokens[seq].data(),
                                                              static_cast<int32_t>(tokens[seq].size()), out, kDraftMax + 1);
                EXPECT_GE(n, 1) << bitnet_last_error();
                if (n < 1) return std::vector<bitnet_token>();
                tokens[seq].insert(tokens[seq].end(), out, out + n);
            }
        }
        return std::vector<bitnet_token>(tokens[0].begin() + static_cast<long>(prompt0.size()), tokens[0].end());
    };
    const std::vector<bitnet_token> alone = generate(false);
    ASSERT_GE(alone.size(), kGenerate);
    EXPECT_EQ(generate(true), alone) << "sequence 0's tokens changed when sequence 1 shared the helper";
}

INSTANTIATE_TEST_SUITE_P(DraftSources, SpeculativeSeeds, ::testing::Values(false, true),
                         [](const auto &info) { return info.param ? "DraftModel" : "PromptLookup"; });

TEST(SpeculativeErrors, BadInputIsRefusedWithAMessage) {
    ModelPtr target_model = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "i2_s"));
    // The trained default model: a SentencePiece vocabulary of 2048 tokens, the synthetic one 259.
    ModelPtr other_vocab = bitnet_test::load_model(std::string(BITNET_SOURCE_DIR) + "/models/fortunes-nano.gguf");
    ASSERT_TRUE(target_model && other_vocab);
    ASSERT_NE(bitnet_model_n_vocab(target_model.get()), bitnet_model_n_vocab(other_vocab.get()));
    ContextPtr target = new_context(target_model.get(), BITNET_BACKEND_CPU);
    ContextPtr foreign = new_context(other_vocab.get(), BITNET_BACKEND_CPU);
    bitnet_speculative *helper = reinterpret_cast<bitnet_speculative *>(1);
    auto refused = [&](const bitnet_speculative_params &params, const char *needle) {
        helper = reinterpret_cast<bitnet_speculative *>(1);
        EXPECT_EQ(bitnet_speculative_new(target.get(), &params, &helper), BITNET_ERR_INVALID_ARGUMENT) << needle;
        EXPECT_EQ(helper, nullptr);
        EXPECT_NE(std::strstr(bitnet_last_error(), needle), nullptr) << bitnet_last_error();
    };
    bitnet_speculative_params params = bitnet_speculative_default_params();
    params.draft_max = 4;
    params.draft_context = foreign.get();
    refused(params, "vocabulary");
    params.draft_max = 0;
    refused(params, "draft_max 0");
    params.draft_max = 1 << 20;
    refused(params, "draft_max 1048576");
    params = bitnet_speculative_default_params();
    params.draft_max = kDraftMax + 1;  // one more than the target's n_outputs_max allows
    refused(params, "n_outputs_max");
    params = bitnet_speculative_default_params();
    params.draft_max = 4;
    params.lookup_ngram = 0;
    refused(params, "lookup_ngram");
    params.lookup_ngram = 3;
    params.draft_context = target.get();
    refused(params, "target context itself");
    EXPECT_EQ(bitnet_speculative_new(nullptr, nullptr, &helper), BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(helper, nullptr);
    bitnet_speculative_free(nullptr);

    params = bitnet_speculative_default_params();
    params.draft_max = 4;
    ASSERT_EQ(bitnet_speculative_new(target.get(), &params, &helper), BITNET_OK) << bitnet_last_error();
    SpeculativePtr owned(helper);
    SamplerPtr sampler = greedy_chain();
    const std::vector<bitnet_token> tokens = {1, 2, 3, 4};
    bitnet_token out[8];
    // The target holds nothing yet, but the call expects tokens[0..2] decoded.
    EXPECT_EQ(bitnet_speculative_generate(helper, sampler.get(), 0, tokens.data(), 4, out, 8), BITNET_COUNT_ERROR);
    EXPECT_EQ(bitnet_last_status(), BITNET_ERR_INVALID_INPUT);
    EXPECT_NE(std::strstr(bitnet_last_error(), "holds positions up to -1"), nullptr) << bitnet_last_error();
    decode_range(target.get(), tokens, 0, 3);
    EXPECT_EQ(bitnet_speculative_generate(nullptr, sampler.get(), 0, tokens.data(), 4, out, 8), BITNET_COUNT_ERROR);
    EXPECT_EQ(bitnet_speculative_generate(helper, nullptr, 0, tokens.data(), 4, out, 8), BITNET_COUNT_ERROR);
    EXPECT_EQ(bitnet_speculative_generate(helper, sampler.get(), 0, tokens.data(), 4, out, 0), BITNET_COUNT_ERROR);
    EXPECT_EQ(bitnet_speculative_generate(helper, sampler.get(), 5, tokens.data(), 4, out, 8), BITNET_COUNT_ERROR);
    const std::vector<bitnet_token> bad_token = {1, 2, 3, 1 << 30};
    EXPECT_EQ(bitnet_speculative_generate(helper, sampler.get(), 0, bad_token.data(), 4, out, 8), BITNET_COUNT_ERROR);
    EXPECT_EQ(bitnet_last_status(), BITNET_ERR_INVALID_INPUT);
    // A chain that does not end with greedy or dist: its distribution is not known.
    bitnet_sampler *top_k = nullptr;
    ASSERT_EQ(bitnet_sampler_init_top_k(3, &top_k), BITNET_OK);
    SamplerPtr no_selector = chain_of({top_k});
    EXPECT_EQ(bitnet_speculative_generate(helper, no_selector.get(), 0, tokens.data(), 4, out, 8), BITNET_COUNT_ERROR);
    EXPECT_EQ(bitnet_last_status(), BITNET_ERR_UNSUPPORTED);
    // Nothing was changed by the failures: the call works now, and leaves the protocol's state.
    const int32_t n = bitnet_speculative_generate(helper, sampler.get(), 0, tokens.data(), 4, out, 8);
    ASSERT_GE(n, 1) << bitnet_last_error();
    EXPECT_EQ(bitnet_seq_pos_max(target.get(), 0), 4 + n - 2);
    bitnet_speculative_stats stats{};
    EXPECT_EQ(bitnet_speculative_get_stats(helper, &stats), BITNET_ERR_INVALID_ARGUMENT);  // struct_size 0
    EXPECT_EQ(bitnet_speculative_get_stats(nullptr, &stats), BITNET_ERR_INVALID_ARGUMENT);
}

}  // namespace
