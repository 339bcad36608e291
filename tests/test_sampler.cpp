// The sampler chain: each member on hand-built logits (expected choices, and expected frequencies
// over many draws), seed determinism, chain order, penalties with a known history, logit bias,
// custom callback samplers, ownership and NULL handling, no allocation on the hot path, and
// sampling from a real context.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <new>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "bitnet.h"
#include "support/engine_runner.h"
#include "support/test_support.h"

// ThreadSanitizer's runtime (linked statically by clang) defines operator new and delete itself,
// so under TSan (.ci/run) they cannot be replaced and allocations are not counted.
#if defined(__SANITIZE_THREAD__)
#define BITNET_COUNT_ALLOCATIONS 0
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define BITNET_COUNT_ALLOCATIONS 0
#endif
#endif
#ifndef BITNET_COUNT_ALLOCATIONS
#define BITNET_COUNT_ALLOCATIONS 1
#endif

// Count heap allocations, to check that sampling does not allocate after its first call.
namespace {
std::atomic<long> allocation_count{0};
}

#if BITNET_COUNT_ALLOCATIONS

void *operator new(std::size_t size) {
    ++allocation_count;
    if (void *p = std::malloc(size ? size : 1)) return p;
    throw std::bad_alloc();
}
void *operator new[](std::size_t size) { return operator new(size); }
void *operator new(std::size_t size, const std::nothrow_t &) noexcept {
    ++allocation_count;
    return std::malloc(size ? size : 1);
}
void *operator new[](std::size_t size, const std::nothrow_t &tag) noexcept { return operator new(size, tag); }
// Out of line, so that GCC does not see free() meet a pointer from operator new and warn.
__attribute__((noinline)) void operator delete(void *p) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete[](void *p) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete(void *p, std::size_t) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete[](void *p, std::size_t) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete(void *p, const std::nothrow_t &) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete[](void *p, const std::nothrow_t &) noexcept { std::free(p); }
#endif

namespace {

struct SamplerDeleter {
    void operator()(bitnet_sampler *sampler) const { bitnet_sampler_free(sampler); }
};
using SamplerPtr = std::unique_ptr<bitnet_sampler, SamplerDeleter>;

// Run a constructor and return what it made (a test failure when it fails).
template <class Init>
bitnet_sampler *made(Init init) {
    bitnet_sampler *sampler = nullptr;
    EXPECT_EQ(init(&sampler), BITNET_OK) << bitnet_last_error();
    return sampler;
}

bitnet_sampler *greedy() { return made([](bitnet_sampler **out) { return bitnet_sampler_init_greedy(out); }); }
bitnet_sampler *dist(uint32_t seed) {
    return made([&](bitnet_sampler **out) { return bitnet_sampler_init_dist(seed, out); });
}
bitnet_sampler *temperature(float t) {
    return made([&](bitnet_sampler **out) { return bitnet_sampler_init_temperature(t, out); });
}
bitnet_sampler *top_k(int32_t k) {
    return made([&](bitnet_sampler **out) { return bitnet_sampler_init_top_k(k, out); });
}
bitnet_sampler *top_p(float p, size_t min_keep = 1) {
    return made([&](bitnet_sampler **out) { return bitnet_sampler_init_top_p(p, min_keep, out); });
}
bitnet_sampler *min_p(float p, size_t min_keep = 1) {
    return made([&](bitnet_sampler **out) { return bitnet_sampler_init_min_p(p, min_keep, out); });
}
bitnet_sampler *typical(float p, size_t min_keep = 1) {
    return made([&](bitnet_sampler **out) { return bitnet_sampler_init_typical(p, min_keep, out); });
}
bitnet_sampler *penalties(int32_t last_n, float repeat, float frequency, float presence) {
    return made([&](bitnet_sampler **out) {
        return bitnet_sampler_init_penalties(last_n, repeat, frequency, presence, out);
    });
}
bitnet_sampler *logit_bias(int32_t n_vocab, const std::vector<bitnet_logit_bias> &biases) {
    return made([&](bitnet_sampler **out) {
        return bitnet_sampler_init_logit_bias(n_vocab, biases.data(), static_cast<int32_t>(biases.size()), out);
    });
}

SamplerPtr chain_of(std::initializer_list<bitnet_sampler *> members) {
    bitnet_sampler *chain = nullptr;
    EXPECT_EQ(bitnet_sampler_chain_new(nullptr, &chain), BITNET_OK);
    for (bitnet_sampler *member : members) EXPECT_EQ(bitnet_sampler_chain_add(chain, member), BITNET_OK) << bitnet_last_error();
    return SamplerPtr(chain);
}

// Candidates laid out by id, as a sample call builds them.
std::vector<bitnet_token_data> candidates_of(const std::vector<float> &logits) {
    std::vector<bitnet_token_data> data;
    for (size_t i = 0; i < logits.size(); ++i) data.push_back({static_cast<bitnet_token>(i), logits[i], 0.0f});
    return data;
}

// Apply one sampler to the logits; returns the candidates left, in their order.
std::vector<bitnet_token_data> apply(bitnet_sampler *sampler, std::vector<bitnet_token_data> data,
                                     bool sorted = false, int64_t *selected = nullptr) {
    bitnet_token_data_array array{data.data(), data.size(), -1, sorted};
    EXPECT_EQ(bitnet_sampler_apply(sampler, &array), BITNET_OK) << bitnet_last_error();
    data.resize(array.size);
    if (selected) *selected = array.selected;
    return data;
}

std::vector<bitnet_token> ids_of(const std::vector<bitnet_token_data> &data) {
    std::vector<bitnet_token> ids;
    for (const auto &d : data) ids.push_back(d.id);
    return ids;
}

std::vector<float> log_of(const std::vector<double> &probabilities) {
    std::vector<float> logits;
    for (double p : probabilities) logits.push_back(static_cast<float>(std::log(p)));
    return logits;
}

std::vector<double> softmax(const std::vector<float> &logits, double temperature = 1.0) {
    double max = *std::max_element(logits.begin(), logits.end());
    std::vector<double> p;
    for (float l : logits) p.push_back(std::exp((l - max) / temperature));
    double sum = std::accumulate(p.begin(), p.end(), 0.0);
    for (double &x : p) x /= sum;
    return p;
}

std::vector<int> draw_counts(bitnet_sampler *sampler, const std::vector<float> &logits, int draws) {
    std::vector<int> counts(logits.size(), 0);
    for (int i = 0; i < draws; ++i) {
        bitnet_token token = bitnet_sampler_sample_logits(sampler, logits.data(), static_cast<int32_t>(logits.size()));
        EXPECT_GE(token, 0) << bitnet_last_error();
        if (token < 0) return counts;
        ++counts[token];
    }
    return counts;
}

// Every count within 4.5 standard deviations of its binomial expectation (a false alarm has odds
// below 1e-5 per bin), tokens of probability zero never drawn, and Pearson's chi-square below a
// bound far in the tail of its distribution.
void expect_frequencies(const std::vector<int> &counts, const std::vector<double> &expected, int draws) {
    ASSERT_EQ(counts.size(), expected.size());
    double chi_square = 0.0;
    int bins = 0;
    for (size_t i = 0; i < counts.size(); ++i) {
        double mean = draws * expected[i];
        if (expected[i] == 0.0) {
            EXPECT_EQ(counts[i], 0) << "token " << i << " has probability 0";
            continue;
        }
        double sigma = std::sqrt(draws * expected[i] * (1.0 - expected[i]));
        EXPECT_NEAR(counts[i], mean, 4.5 * sigma + 1.0) << "token " << i << " expected p " << expected[i];
        chi_square += (counts[i] - mean) * (counts[i] - mean) / mean;
        ++bins;
    }
    double df = std::max(bins - 1, 1);
    EXPECT_LT(chi_square, df + 8.0 * std::sqrt(2.0 * df) + 10.0) << "bins " << bins;
}

constexpr int kDraws = 20000;

// The distribution used by most checks: probabilities 0.4, 0.3, 0.2, 0.1.
const std::vector<double> kFour = {0.4, 0.3, 0.2, 0.1};

TEST(Sampler, GreedyPicksTheHighestLogitAndTheLowestIdAmongEquals) {
    SamplerPtr chain = chain_of({greedy()});
    std::vector<float> logits = {0.1f, 2.5f, -1.0f, 2.0f};
    EXPECT_EQ(bitnet_sampler_sample_logits(chain.get(), logits.data(), 4), 1);
    std::vector<float> tied = {1.0f, 3.0f, 3.0f, -INFINITY, 3.0f};
    EXPECT_EQ(bitnet_sampler_sample_logits(chain.get(), tied.data(), 5), 1);
    std::vector<float> all_low = {-INFINITY, -INFINITY, -5.0f};
    EXPECT_EQ(bitnet_sampler_sample_logits(chain.get(), all_low.data(), 3), 2);
}

TEST(Sampler, DistDrawsWithSoftmaxFrequencies) {
    std::vector<float> logits = {1.0f, 2.0f, 0.5f, -1.0f, 1.5f, -INFINITY};
    SamplerPtr chain = chain_of({dist(1234)});
    expect_frequencies(draw_counts(chain.get(), logits, kDraws), softmax(logits), kDraws);
}

TEST(Sampler, TemperatureScalesTheDistribution) {
    std::vector<float> logits = {1.0f, 2.0f, 0.5f, -1.0f, 1.5f};
    for (float t : {0.5f, 2.0f}) {
        SamplerPtr chain = chain_of({temperature(t), dist(7)});
        expect_frequencies(draw_counts(chain.get(), logits, kDraws), softmax(logits, t), kDraws);
    }
}

TEST(Sampler, TemperatureAtOrBelowZeroKeepsOnlyTheBest) {
    std::vector<float> logits = {1.0f, 2.0f, 0.5f, 2.0f};
    for (float t : {0.0f, -1.0f}) {
        SamplerPtr only = SamplerPtr(temperature(t));
        auto kept = apply(only.get(), candidates_of(logits));
        ASSERT_EQ(kept.size(), 1u);
        EXPECT_EQ(kept[0].id, 1);
        SamplerPtr chain = chain_of({temperature(t), dist(3)});
        auto counts = draw_counts(chain.get(), logits, 200);
        EXPECT_EQ(counts[1], 200);
    }
}

TEST(Sampler, TopKKeepsTheKBestInOrder) {
    SamplerPtr sampler(top_k(3));
    auto kept = apply(sampler.get(), candidates_of({0.5f, 3.0f, -2.0f, 1.0f, 3.0f, 2.0f}));
    EXPECT_EQ(ids_of(kept), (std::vector<bitnet_token>{1, 4, 5}));  // the tie 1/4 ranks by id

    // On a large unsorted array it matches a full sort.
    std::mt19937 rng(5);
    std::normal_distribution<float> normal(0.0f, 3.0f);
    std::vector<float> logits(5000);
    for (float &l : logits) l = std::round(normal(rng) * 4.0f) / 4.0f;  // many ties
    auto reference = candidates_of(logits);
    std::sort(reference.begin(), reference.end(), [](const auto &a, const auto &b) {
        return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
    });
    SamplerPtr k37(top_k(37));
    EXPECT_EQ(ids_of(apply(k37.get(), candidates_of(logits))),
              ids_of(std::vector<bitnet_token_data>(reference.begin(), reference.begin() + 37)));

    SamplerPtr none(top_k(0));
    EXPECT_EQ(apply(none.get(), candidates_of(logits)).size(), logits.size());

    std::vector<float> small = {1.0f, 2.0f, 0.5f, -1.0f, 1.5f};
    SamplerPtr chain = chain_of({top_k(2), dist(11)});
    std::vector<double> expected = softmax({-INFINITY, 2.0f, -INFINITY, -INFINITY, 1.5f});
    expect_frequencies(draw_counts(chain.get(), small, kDraws), expected, kDraws);
}

TEST(Sampler, TopPKeepsTheSmallestNucleus) {
    std::vector<float> logits = log_of(kFour);
    SamplerPtr sampler(top_p(0.65f));
    EXPECT_EQ(ids_of(apply(sampler.get(), candidates_of(logits))), (std::vector<bitnet_token>{0, 1}));
    SamplerPtr keep3(top_p(0.1f, 3));
    EXPECT_EQ(ids_of(apply(keep3.get(), candidates_of(logits))), (std::vector<bitnet_token>{0, 1, 2}));
    SamplerPtr all(top_p(1.0f));
    EXPECT_EQ(apply(all.get(), candidates_of(logits)).size(), 4u);

    SamplerPtr chain = chain_of({top_p(0.65f), dist(99)});
    expect_frequencies(draw_counts(chain.get(), logits, kDraws), {4.0 / 7, 3.0 / 7, 0, 0}, kDraws);
}

TEST(Sampler, TopPOnALargeUnsortedArrayMatchesAFullSort) {
    std::mt19937 rng(8);
    std::normal_distribution<float> normal(0.0f, 2.0f);
    std::vector<float> logits(20000);
    for (float &l : logits) l = normal(rng);
    std::vector<double> p = softmax(logits);
    std::vector<size_t> order(logits.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); });
    for (float nucleus : {0.05f, 0.5f, 0.95f}) {
        double cumulative = 0.0;
        std::vector<bitnet_token> expected;
        for (size_t i : order) {
            expected.push_back(static_cast<bitnet_token>(i));
            cumulative += p[i];
            if (cumulative >= nucleus) break;
        }
        SamplerPtr sampler(top_p(nucleus));
        auto kept = ids_of(apply(sampler.get(), candidates_of(logits)));
        // Summation order can move the boundary by one token of tiny probability.
        ASSERT_NEAR(static_cast<double>(kept.size()), static_cast<double>(expected.size()), 1.0) << nucleus;
        size_t common = std::min(kept.size(), expected.size());
        EXPECT_TRUE(std::equal(kept.begin(), kept.begin() + common, expected.begin())) << nucleus;
    }
}

TEST(Sampler, MinPKeepsTokensAboveAFractionOfTheBest) {
    std::vector<float> logits = log_of(kFour);
    SamplerPtr sampler(min_p(0.3f));
    // p >= 0.3 * 0.4 = 0.12: tokens 0, 1, 2; the unsorted path keeps their order.
    EXPECT_EQ(ids_of(apply(sampler.get(), candidates_of({logits[2], logits[0], logits[3], logits[1]}))).size(), 3u);
    EXPECT_EQ(ids_of(apply(sampler.get(), candidates_of(logits))), (std::vector<bitnet_token>{0, 1, 2}));
    // The sorted path gives the same set.
    EXPECT_EQ(ids_of(apply(sampler.get(), candidates_of(logits), true)), (std::vector<bitnet_token>{0, 1, 2}));
    SamplerPtr strict(min_p(0.9f, 2));
    EXPECT_EQ(ids_of(apply(strict.get(), candidates_of(logits))), (std::vector<bitnet_token>{0, 1}));
    SamplerPtr above_one(min_p(1.0f, 0));
    EXPECT_EQ(ids_of(apply(above_one.get(), candidates_of(logits))), (std::vector<bitnet_token>{0}));

    SamplerPtr chain = chain_of({min_p(0.3f), dist(5)});
    expect_frequencies(draw_counts(chain.get(), logits, kDraws), {4.0 / 9, 3.0 / 9, 2.0 / 9, 0}, kDraws);
}

TEST(Sampler, TypicalKeepsTheTokensClosestToTheEntropy) {
    // Entropy 1.280 nats; |-log p - H| = 0.364, 0.076, 0.330, 1.023: the order is 1, 2, 0, 3, and
    // 0.3 + 0.2 > 0.45 keeps tokens 1 and 2.
    std::vector<float> logits = log_of(kFour);
    SamplerPtr sampler(typical(0.45f));
    EXPECT_EQ(ids_of(apply(sampler.get(), candidates_of(logits))), (std::vector<bitnet_token>{1, 2}));
    SamplerPtr keep3(typical(0.1f, 3));
    EXPECT_EQ(ids_of(apply(keep3.get(), candidates_of(logits))), (std::vector<bitnet_token>{1, 2, 0}));

    SamplerPtr chain = chain_of({typical(0.45f), dist(17)});
    expect_frequencies(draw_counts(chain.get(), logits, kDraws), {0, 0.6, 0.4, 0}, kDraws);
}

TEST(Sampler, PenaltiesUseTheLastNAcceptedTokens) {
    std::vector<float> logits = {2.0f, -1.0f, 0.5f, 1.0f, 3.0f};
    SamplerPtr sampler(penalties(4, 2.0f, 0.5f, 0.25f));
    // Token 4 leaves the window of 4; it then holds 0, 0, 1, 0.
    for (bitnet_token token : {4, 0, 0, 1, 0}) ASSERT_EQ(bitnet_sampler_accept(sampler.get(), token), BITNET_OK);
    const std::vector<float> expected = {2.0f / 2 - 3 * 0.5f - 0.25f, -1.0f * 2 - 0.5f - 0.25f, 0.5f, 1.0f, 3.0f};
    auto by_id = apply(sampler.get(), candidates_of(logits));
    for (size_t i = 0; i < expected.size(); ++i) EXPECT_FLOAT_EQ(by_id[i].logit, expected[i]) << i;

    // Candidates in another order (after a reordering member) get the same penalties.
    auto shuffled = candidates_of(logits);
    std::reverse(shuffled.begin(), shuffled.end());
    shuffled.pop_back();  // token 0 is gone
    for (const auto &c : apply(sampler.get(), shuffled)) EXPECT_FLOAT_EQ(c.logit, expected[c.id]) << c.id;

    bitnet_sampler_reset(sampler.get());
    auto after_reset = apply(sampler.get(), candidates_of(logits));
    for (size_t i = 0; i < logits.size(); ++i) EXPECT_FLOAT_EQ(after_reset[i].logit, logits[i]);

    // In a chain, sampled tokens are accepted: greedy with a presence penalty alternates.
    SamplerPtr chain = chain_of({penalties(1, 1.0f, 0.0f, 10.0f), greedy()});
    std::vector<float> two = {1.0f, 0.9f};
    std::vector<bitnet_token> picked;
    for (int i = 0; i < 4; ++i) picked.push_back(bitnet_sampler_sample_logits(chain.get(), two.data(), 2));
    EXPECT_EQ(picked, (std::vector<bitnet_token>{0, 1, 0, 1}));
}

TEST(Sampler, LogitBiasForcesAndBansTokens) {
    std::vector<float> logits = {1.0f, 2.0f, 0.5f, -1.0f};
    SamplerPtr forced = chain_of({logit_bias(4, {{3, 50.0f}}), dist(1)});
    EXPECT_EQ(draw_counts(forced.get(), logits, 500)[3], 500);
    SamplerPtr banned = chain_of({logit_bias(4, {{1, -INFINITY}}), greedy()});
    EXPECT_EQ(bitnet_sampler_sample_logits(banned.get(), logits.data(), 4), 0);
    // Biases of a repeated token add up: 0.5 + 1 + 1 beats 2.
    SamplerPtr summed = chain_of({logit_bias(4, {{2, 1.0f}, {0, -5.0f}, {2, 1.0f}}), greedy()});
    EXPECT_EQ(bitnet_sampler_sample_logits(summed.get(), logits.data(), 4), 2);

    bitnet_sampler *bad = reinterpret_cast<bitnet_sampler *>(0x1);
    bitnet_logit_bias outside = {4, 1.0f};
    EXPECT_EQ(bitnet_sampler_init_logit_bias(4, &outside, 1, &bad), BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(bad, nullptr);
    EXPECT_NE(std::string(bitnet_last_error()).find("outside the vocabulary"), std::string::npos);
    bitnet_logit_bias plus_infinity = {0, INFINITY};
    EXPECT_EQ(bitnet_sampler_init_logit_bias(4, &plus_infinity, 1, &bad), BITNET_ERR_INVALID_ARGUMENT);
}

std::vector<bitnet_token> sample_sequence(bitnet_sampler *chain, int n) {
    std::vector<float> logits = {0.3f, 0.1f, 0.0f, -0.2f, 0.25f, 0.05f, -0.1f, 0.2f};
    std::vector<bitnet_token> tokens;
    for (int i = 0; i < n; ++i) tokens.push_back(bitnet_sampler_sample_logits(chain, logits.data(), 8));
    return tokens;
}

TEST(Sampler, SameSeedSameTokens) {
    SamplerPtr a = chain_of({top_k(6), temperature(0.9f), dist(42)});
    SamplerPtr b = chain_of({top_k(6), temperature(0.9f), dist(42)});
    SamplerPtr c = chain_of({top_k(6), temperature(0.9f), dist(43)});
    std::vector<bitnet_token> first = sample_sequence(a.get(), 200);
    EXPECT_EQ(first, sample_sequence(b.get(), 200));
    EXPECT_NE(first, sample_sequence(c.get(), 200));
    EXPECT_EQ(bitnet_sampler_get_seed(a.get()), 42u);
    // Reset restarts the stream.
    bitnet_sampler_reset(a.get());
    EXPECT_EQ(first, sample_sequence(a.get(), 200));

    // A random seed is drawn from the OS and reported; reusing it replays the stream.
    SamplerPtr random = chain_of({dist(BITNET_DEFAULT_SEED)});
    uint32_t seed = bitnet_sampler_get_seed(random.get());
    SamplerPtr replay = chain_of({dist(seed)});
    EXPECT_EQ(sample_sequence(random.get(), 100), sample_sequence(replay.get(), 100));
    SamplerPtr no_dist = chain_of({greedy()});
    EXPECT_EQ(bitnet_sampler_get_seed(no_dist.get()), BITNET_DEFAULT_SEED);
}

TEST(Sampler, DistStreamIsPinned) {
    // The stream depends only on std::mt19937 (pinned by the C++ standard) and our own mapping
    // to [0, 1): the same tokens on every platform for logits with exact probabilities.
    std::vector<float> logits = log_of({0.25, 0.25, 0.25, 0.25});
    SamplerPtr chain = chain_of({dist(2024)});
    std::vector<bitnet_token> tokens;
    for (int i = 0; i < 16; ++i) tokens.push_back(bitnet_sampler_sample_logits(chain.get(), logits.data(), 4));
    std::mt19937 rng(2024);
    std::vector<bitnet_token> expected;
    for (int i = 0; i < 16; ++i) {
        uint32_t high = rng() >> 5, low = rng() >> 6;
        double u = (high * 67108864.0 + low) / 9007199254740992.0;
        expected.push_back(static_cast<bitnet_token>(u * 4));
    }
    EXPECT_EQ(tokens, expected);
}

TEST(Sampler, OrderOfTemperatureAndTopPMatters) {
    // p = 0.6, 0.3, 0.1. Top-p 0.5 on the raw distribution keeps token 0 only. After temperature
    // 3 the distribution is 0.427, 0.339, 0.235 (p^(1/3), normalised), and the nucleus of 0.5
    // needs tokens 0 and 1, drawn 0.557 / 0.443 of the time.
    std::vector<float> logits = log_of({0.6, 0.3, 0.1});
    SamplerPtr top_p_first = chain_of({top_p(0.5f), temperature(3.0f), dist(21)});
    EXPECT_EQ(draw_counts(top_p_first.get(), logits, 2000)[0], 2000);
    SamplerPtr temperature_first = chain_of({temperature(3.0f), top_p(0.5f), dist(21)});
    double a = std::cbrt(0.6), b = std::cbrt(0.3);
    expect_frequencies(draw_counts(temperature_first.get(), logits, kDraws), {a / (a + b), b / (a + b), 0}, kDraws);

    // Min-p likewise: 0.3 * 0.6 = 0.18 drops token 2 (0.1); after temperature 3, token 2's 0.235
    // is above 0.3 * 0.427.
    SamplerPtr min_p_first = chain_of({min_p(0.3f), temperature(3.0f), dist(22)});
    EXPECT_EQ(draw_counts(min_p_first.get(), logits, 2000)[2], 0);
    SamplerPtr tempered_min_p = chain_of({temperature(3.0f), min_p(0.3f), dist(22)});
    EXPECT_GT(draw_counts(tempered_min_p.get(), logits, 2000)[2], 300);
}

TEST(Sampler, TopKAndTemperatureCommute) {
    SamplerPtr a = chain_of({top_k(5), temperature(0.7f), dist(9)});
    SamplerPtr b = chain_of({temperature(0.7f), top_k(5), dist(9)});
    EXPECT_EQ(sample_sequence(a.get(), 300), sample_sequence(b.get(), 300));
}

TEST(Sampler, AChainMustEndWithASelectingMember) {
    std::vector<float> logits = {1.0f, 2.0f};
    SamplerPtr empty = chain_of({});
    EXPECT_EQ(bitnet_sampler_sample_logits(empty.get(), logits.data(), 2), BITNET_TOKEN_NULL);
    EXPECT_NE(std::string(bitnet_last_error()).find("greedy"), std::string::npos) << bitnet_last_error();
    SamplerPtr transforms = chain_of({top_k(1), temperature(0.5f)});
    EXPECT_EQ(bitnet_sampler_sample_logits(transforms.get(), logits.data(), 2), BITNET_TOKEN_NULL);
    EXPECT_NE(std::string(bitnet_last_error()).find("selected no token"), std::string::npos);
    // A selection followed by a transforming member is cleared: the last word is the transform's.
    SamplerPtr late = chain_of({greedy(), top_k(1)});
    EXPECT_EQ(bitnet_sampler_sample_logits(late.get(), logits.data(), 2), BITNET_TOKEN_NULL);
    // A lone member can sample.
    SamplerPtr lone(greedy());
    EXPECT_EQ(bitnet_sampler_sample_logits(lone.get(), logits.data(), 2), 1);
}

TEST(Sampler, InvalidLogitsAreReported) {
    SamplerPtr chain = chain_of({dist(1)});
    std::vector<float> nan = {1.0f, NAN, 0.0f};
    EXPECT_EQ(bitnet_sampler_sample_logits(chain.get(), nan.data(), 3), BITNET_TOKEN_NULL);
    EXPECT_NE(std::string(bitnet_last_error()).find("token 1 is NaN"), std::string::npos) << bitnet_last_error();
    std::vector<float> infinite = {1.0f, 0.0f, INFINITY};
    EXPECT_EQ(bitnet_sampler_sample_logits(chain.get(), infinite.data(), 3), BITNET_TOKEN_NULL);
    std::vector<float> banned = {-INFINITY, -INFINITY};
    EXPECT_EQ(bitnet_sampler_sample_logits(chain.get(), banned.data(), 2), BITNET_TOKEN_NULL);
    EXPECT_NE(std::string(bitnet_last_error()).find("finite"), std::string::npos) << bitnet_last_error();
    // The sampler is still usable.
    std::vector<float> fine = {0.0f, -INFINITY};
    EXPECT_EQ(bitnet_sampler_sample_logits(chain.get(), fine.data(), 2), 0);
}

struct CustomState {
    std::vector<bitnet_token> accepted;
    int resets = 0;
    int frees = 0;
    bool grow = false;
};

bitnet_sampler_callbacks lowest_id_callbacks(CustomState *state) {
    bitnet_sampler_callbacks callbacks{};
    callbacks.version = BITNET_SAMPLER_CALLBACKS_VERSION;
    callbacks.name = [](void *) { return "lowest-id"; };
    callbacks.accept = [](void *user, bitnet_token token) { static_cast<CustomState *>(user)->accepted.push_back(token); };
    callbacks.apply = [](void *user, bitnet_token_data_array *candidates) {
        if (static_cast<CustomState *>(user)->grow) {
            ++candidates->size;
            return;
        }
        int64_t best = 0;
        for (size_t i = 1; i < candidates->size; ++i) {
            if (candidates->data[i].id < candidates->data[best].id) best = static_cast<int64_t>(i);
        }
        candidates->selected = best;
    };
    callbacks.reset = [](void *user) { ++static_cast<CustomState *>(user)->resets; };
    callbacks.free = [](void *user) { ++static_cast<CustomState *>(user)->frees; };
    callbacks.user_data = state;
    return callbacks;
}

TEST(Sampler, CustomSamplerThroughCallbacks) {
    CustomState state;
    bitnet_sampler_callbacks callbacks = lowest_id_callbacks(&state);
    bitnet_sampler *custom = nullptr;
    ASSERT_EQ(bitnet_sampler_init_custom(&callbacks, &custom), BITNET_OK) << bitnet_last_error();
    EXPECT_STREQ(bitnet_sampler_name(custom), "lowest-id");
    {
        // Top-k 2 leaves tokens 1 and 3; the custom member picks the lower id.
        SamplerPtr chain = chain_of({top_k(2), custom});
        std::vector<float> logits = {0.0f, 5.0f, 1.0f, 4.0f};
        EXPECT_EQ(bitnet_sampler_sample_logits(chain.get(), logits.data(), 4), 1);
        EXPECT_EQ(bitnet_sampler_accept(chain.get(), 3), BITNET_OK);
        EXPECT_EQ(state.accepted, (std::vector<bitnet_token>{1, 3}));
        bitnet_sampler_reset(chain.get());
        EXPECT_EQ(state.resets, 1);
        EXPECT_EQ(state.frees, 0);
    }
    EXPECT_EQ(state.frees, 1);  // the chain freed its member once

    // A sampler that grows the array is stopped.
    CustomState grower;
    grower.grow = true;
    callbacks = lowest_id_callbacks(&grower);
    bitnet_sampler *bad = nullptr;
    ASSERT_EQ(bitnet_sampler_init_custom(&callbacks, &bad), BITNET_OK);
    SamplerPtr guarded(bad);
    std::vector<float> logits = {0.0f, 1.0f};
    EXPECT_EQ(bitnet_sampler_sample_logits(guarded.get(), logits.data(), 2), BITNET_TOKEN_NULL);
    EXPECT_NE(std::string(bitnet_last_error()).find("grew"), std::string::npos);
}

TEST(Sampler, CustomSamplerOfAnotherVersionIsRejected) {
    CustomState state;
    bitnet_sampler_callbacks callbacks = lowest_id_callbacks(&state);
    callbacks.version = BITNET_SAMPLER_CALLBACKS_VERSION + 1;
    bitnet_sampler *custom = reinterpret_cast<bitnet_sampler *>(0x1);
    EXPECT_EQ(bitnet_sampler_init_custom(&callbacks, &custom), BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(custom, nullptr);
    EXPECT_NE(std::string(bitnet_last_error()).find("version"), std::string::npos);
    callbacks.version = 0;
    EXPECT_EQ(bitnet_sampler_init_custom(&callbacks, &custom), BITNET_ERR_INVALID_ARGUMENT);
    callbacks.version = BITNET_SAMPLER_CALLBACKS_VERSION;
    callbacks.apply = nullptr;
    EXPECT_EQ(bitnet_sampler_init_custom(&callbacks, &custom), BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(state.frees, 0);  // the caller keeps user_data when construction fails
}

TEST(Sampler, ChainOwnershipRules) {
    SamplerPtr chain = chain_of({});
    bitnet_sampler *member = greedy();
    ASSERT_EQ(bitnet_sampler_chain_add(chain.get(), member), BITNET_OK);
    EXPECT_EQ(bitnet_sampler_chain_n(chain.get()), 1);
    EXPECT_EQ(bitnet_sampler_chain_get(chain.get(), 0), member);
    EXPECT_EQ(bitnet_sampler_chain_get(chain.get(), 1), nullptr);
    EXPECT_STREQ(bitnet_sampler_name(chain.get()), "chain");
    EXPECT_STREQ(bitnet_sampler_name(member), "greedy");

    // Adding it again, to this or another chain, fails and changes nothing.
    SamplerPtr other = chain_of({});
    EXPECT_EQ(bitnet_sampler_chain_add(other.get(), member), BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(bitnet_sampler_chain_n(other.get()), 0);
    // Freeing a member is ignored: its chain frees it (the sanitizer build catches a double free).
    bitnet_sampler_free(member);
    EXPECT_EQ(bitnet_sampler_chain_add(chain.get(), chain.get()), BITNET_ERR_INVALID_ARGUMENT);

    // Nested chains work, cycles are refused.
    bitnet_sampler *inner = nullptr;
    ASSERT_EQ(bitnet_sampler_chain_new(nullptr, &inner), BITNET_OK);
    ASSERT_EQ(bitnet_sampler_chain_add(other.get(), inner), BITNET_OK);
    bitnet_sampler *outer = other.release();
    EXPECT_EQ(bitnet_sampler_chain_add(inner, outer), BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(bitnet_last_error()).find("inside itself"), std::string::npos);
    ASSERT_EQ(bitnet_sampler_chain_add(inner, dist(5)), BITNET_OK);
    EXPECT_EQ(bitnet_sampler_get_seed(outer), 5u);
    std::vector<float> logits = {0.0f, 1.0f};
    EXPECT_GE(bitnet_sampler_sample_logits(outer, logits.data(), 2), 0);
    bitnet_sampler_free(outer);

    // A member that is not added stays the caller's after a failed add.
    bitnet_sampler *loose = top_k(3);
    EXPECT_EQ(bitnet_sampler_chain_add(member, loose), BITNET_ERR_INVALID_ARGUMENT);  // greedy is no chain
    bitnet_sampler_free(loose);
}

TEST(Sampler, NullAndInvalidArguments) {
    bitnet_sampler_free(nullptr);
    bitnet_sampler_reset(nullptr);
    EXPECT_STREQ(bitnet_sampler_name(nullptr), "");
    EXPECT_EQ(bitnet_sampler_chain_n(nullptr), 0);
    EXPECT_EQ(bitnet_sampler_chain_get(nullptr, 0), nullptr);
    EXPECT_EQ(bitnet_sampler_get_seed(nullptr), BITNET_DEFAULT_SEED);
    EXPECT_EQ(bitnet_sampler_perf(nullptr).n_sample, 0);
    bitnet_sampler_perf_reset(nullptr);

    EXPECT_EQ(bitnet_sampler_chain_new(nullptr, nullptr), BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(bitnet_sampler_init_greedy(nullptr), BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(bitnet_last_error()).find("out_sampler is NULL"), std::string::npos);
    bitnet_sampler_chain_params params = bitnet_sampler_chain_default_params();
    params.struct_size = 1;
    bitnet_sampler *out = reinterpret_cast<bitnet_sampler *>(0x1);
    EXPECT_EQ(bitnet_sampler_chain_new(&params, &out), BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(out, nullptr);
    EXPECT_EQ(bitnet_sampler_chain_add(nullptr, nullptr), BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(bitnet_sampler_init_temperature(NAN, &out), BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(bitnet_sampler_init_top_p(NAN, 1, &out), BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(bitnet_sampler_init_min_p(NAN, 1, &out), BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(bitnet_sampler_init_typical(NAN, 1, &out), BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(bitnet_sampler_init_penalties(-1, 1.1f, 0, 0, &out), BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(bitnet_sampler_init_penalties(64, 0.0f, 0, 0, &out), BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(bitnet_sampler_init_logit_bias(0, nullptr, 0, &out), BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(bitnet_sampler_init_logit_bias(4, nullptr, 1, &out), BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(bitnet_sampler_init_custom(nullptr, &out), BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(out, nullptr);

    float logits[2] = {0.0f, 1.0f};
    EXPECT_EQ(bitnet_sampler_sample_logits(nullptr, logits, 2), BITNET_TOKEN_NULL);
    EXPECT_EQ(bitnet_sampler_sample(nullptr, nullptr, -1), BITNET_TOKEN_NULL);
    SamplerPtr chain = chain_of({greedy()});
    EXPECT_EQ(bitnet_sampler_sample(chain.get(), nullptr, -1), BITNET_TOKEN_NULL);
    EXPECT_NE(std::string(bitnet_last_error()).find("context is NULL"), std::string::npos);
    EXPECT_EQ(bitnet_sampler_sample_logits(chain.get(), nullptr, 2), BITNET_TOKEN_NULL);
    EXPECT_EQ(bitnet_sampler_sample_logits(chain.get(), logits, 0), BITNET_TOKEN_NULL);
    EXPECT_EQ(bitnet_sampler_apply(chain.get(), nullptr), BITNET_ERR_INVALID_ARGUMENT);
    bitnet_token_data_array bad{nullptr, 3, -1, false};
    EXPECT_EQ(bitnet_sampler_apply(chain.get(), &bad), BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(bitnet_sampler_accept(nullptr, 1), BITNET_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(bitnet_sampler_accept(chain.get(), -1), BITNET_ERR_INVALID_ARGUMENT);
}

TEST(Sampler, ApplyingAChainToCallerCandidates) {
    SamplerPtr chain = chain_of({top_k(3), temperature(0.5f), greedy()});
    int64_t selected = -1;
    auto kept = apply(chain.get(), candidates_of({0.1f, 0.7f, 0.3f, 0.9f}), false, &selected);
    EXPECT_EQ(ids_of(kept), (std::vector<bitnet_token>{3, 1, 2}));
    EXPECT_FLOAT_EQ(kept[0].logit, 1.8f);
    ASSERT_EQ(selected, 0);
}

TEST(Sampler, PerfCountsSamplesUnlessDisabled) {
    std::vector<float> logits = {0.0f, 1.0f};
    SamplerPtr timed = chain_of({greedy()});
    for (int i = 0; i < 3; ++i) bitnet_sampler_sample_logits(timed.get(), logits.data(), 2);
    EXPECT_EQ(bitnet_sampler_perf(timed.get()).n_sample, 3);
    EXPECT_GE(bitnet_sampler_perf(timed.get()).t_sample_ms, 0.0);
    bitnet_sampler_perf_reset(timed.get());
    EXPECT_EQ(bitnet_sampler_perf(timed.get()).n_sample, 0);

    bitnet_sampler_chain_params params = bitnet_sampler_chain_default_params();
    params.no_perf = true;
    bitnet_sampler *untimed = nullptr;
    ASSERT_EQ(bitnet_sampler_chain_new(&params, &untimed), BITNET_OK);
    SamplerPtr owner(untimed);
    ASSERT_EQ(bitnet_sampler_chain_add(untimed, greedy()), BITNET_OK);
    bitnet_sampler_sample_logits(untimed, logits.data(), 2);
    EXPECT_EQ(bitnet_sampler_perf(untimed).n_sample, 0);
}

TEST(Sampler, SamplingDoesNotAllocateAfterTheFirstCall) {
    if (!BITNET_COUNT_ALLOCATIONS) GTEST_SKIP() << "skipped: allocations are not counted under ThreadSanitizer";
    const int32_t n_vocab = 32000;
    std::mt19937 rng(3);
    std::normal_distribution<float> normal(0.0f, 3.0f);
    std::vector<std::vector<float>> rows(4, std::vector<float>(n_vocab));
    for (auto &row : rows) {
        for (float &l : row) l = normal(rng);
    }
    SamplerPtr chain = chain_of({logit_bias(n_vocab, {{5, 1.0f}, {7, -INFINITY}}), penalties(64, 1.1f, 0.1f, 0.1f),
                                 top_k(40), top_p(0.95f), min_p(0.05f), typical(0.9f), temperature(0.8f), dist(1)});
    SamplerPtr full_vocab = chain_of({penalties(64, 1.1f, 0.0f, 0.0f), top_p(0.9f), temperature(0.8f), dist(2)});
    for (int i = 0; i < 80; ++i) {  // fill the penalty windows
        bitnet_sampler_sample_logits(chain.get(), rows[i % 4].data(), n_vocab);
        bitnet_sampler_sample_logits(full_vocab.get(), rows[i % 4].data(), n_vocab);
    }
    long before = allocation_count.load();
    for (int i = 0; i < 100; ++i) {
        EXPECT_GE(bitnet_sampler_sample_logits(chain.get(), rows[i % 4].data(), n_vocab), 0);
        EXPECT_GE(bitnet_sampler_sample_logits(full_vocab.get(), rows[i % 4].data(), n_vocab), 0);
    }
    EXPECT_EQ(allocation_count.load() - before, 0);
}

TEST(Sampler, SamplesFromAContext) {
    bitnet_test::ModelPtr model = bitnet_test::load_model(bitnet_test::synthetic_model("tiny", "i2_s"));
    ASSERT_TRUE(model);
    bitnet_test::ContextPtr context = bitnet_test::make_context(model.get(), bitnet_test::RunOptions{}, 8);
    ASSERT_TRUE(context);
    ASSERT_EQ(bitnet_test::decode_tokens(context.get(), {1, 2, 3, 4}, 0, 0), BITNET_OK) << bitnet_last_error();
    const int32_t n_vocab = bitnet_model_n_vocab(model.get());
    SamplerPtr chain = chain_of({greedy()});
    for (int32_t entry : {-1, 0, 2}) {
        std::vector<float> logits = bitnet_test::logits_copy(context.get(), entry, n_vocab);
        auto argmax = std::max_element(logits.begin(), logits.end()) - logits.begin();
        EXPECT_EQ(bitnet_sampler_sample(chain.get(), context.get(), entry), argmax) << entry;
    }
    EXPECT_EQ(bitnet_sampler_sample(chain.get(), context.get(), 9), BITNET_TOKEN_NULL);
    EXPECT_NE(std::string(bitnet_last_error()).find("outside the last batch"), std::string::npos) << bitnet_last_error();

    // A seeded chain gives the same token from the context as from a copy of its logits.
    SamplerPtr a = chain_of({top_k(20), temperature(1.5f), dist(77)});
    SamplerPtr b = chain_of({top_k(20), temperature(1.5f), dist(77)});
    std::vector<float> last = bitnet_test::logits_copy(context.get(), -1, n_vocab);
    for (int i = 0; i < 20; ++i) {
        EXPECT_EQ(bitnet_sampler_sample(a.get(), context.get(), -1),
                  bitnet_sampler_sample_logits(b.get(), last.data(), n_vocab));
    }
}

}  // namespace
