// `bitnet perplexity` (tools/cli/cmd_perplexity.cpp, perplexity_*.cpp) against independent
// computations: the perplexity it prints equals the double-precision reference forward pass
// (tests/reference) scored the llama-perplexity way over the same token windows; its KL
// divergence statistics equal a direct computation from engine logits; --parallel changes
// nothing; bad input fails with a message and a non-zero status, never a crash.
//
// The text, tests/text/public_domain_english.txt, is the opening of the US Declaration of
// Independence (1776) and the Gettysburg Address (1863), both public domain (tests/text/README.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "bitnet.h"
#include "perplexity_chunks.h"
#include "perplexity_kld_file.h"
#include "perplexity_math.h"
#include "reference/reference.h"
#include "support/engine_runner.h"
#include "support/process.h"
#include "support/test_support.h"

namespace {

const std::string kTool = std::string(BITNET_BINARY_DIR) + "/bin/bitnet";
const std::string kText = std::string(BITNET_SOURCE_DIR) + "/tests/text/public_domain_english.txt";

struct ToolResult {
    int status = -1;
    std::string out, err;
};

ToolResult run_tool(const std::vector<std::string> &args) {
    const std::string dir = bitnet_test::temp_dir();
    std::vector<std::string> argv = {kTool, "perplexity"};
    argv.insert(argv.end(), args.begin(), args.end());
    ToolResult result;
    result.status = bitnet_test::run_process(argv, {}, dir + "/ppl.out", dir + "/ppl.err");
    const auto out = bitnet_test::read_file_if_exists(dir + "/ppl.out");
    const auto err = bitnet_test::read_file_if_exists(dir + "/ppl.err");
    result.out.assign(out.begin(), out.end());
    result.err.assign(err.begin(), err.end());
    return result;
}

// The number after `key` in `text` (e.g. "PPL = " or "\"mean\": "); NaN when absent.
double number_after(const std::string &text, const std::string &key) {
    const size_t at = text.find(key);
    if (at == std::string::npos) return std::nan("");
    return std::strtod(text.c_str() + at + key.size(), nullptr);
}

// 4 significant digits: the relative difference is below half a unit of the 4th digit (5e-4).
void expect_close(double actual, double expected, double tolerance, const char *what) {
    EXPECT_LT(std::fabs(actual - expected) / std::fabs(expected), tolerance)
        << what << ": tool " << actual << ", reference " << expected;
}

std::vector<bitnet_token> tokenize_text(const bitnet_model *model) {
    const auto bytes = bitnet_test::read_file(kText);
    const std::string text(bytes.begin(), bytes.end());
    std::vector<bitnet_token> tokens(text.size() + 16);
    const int32_t n = bitnet_tokenize(model, text.data(), static_cast<int32_t>(text.size()), tokens.data(),
                                      static_cast<int32_t>(tokens.size()), true, false);
    EXPECT_GT(n, 0);
    tokens.resize(static_cast<size_t>(std::max(n, 0)));
    return tokens;
}

// The chunk's input tokens as llama-perplexity feeds them: BOS replaces the first when the
// tokenizer added one at the start of the text.
std::vector<int> chunk_window(const std::vector<bitnet_token> &tokens, bitnet_token bos, int n_ctx, int chunk) {
    std::vector<int> window(tokens.begin() + chunk * n_ctx, tokens.begin() + (chunk + 1) * n_ctx);
    if (tokens[0] == bos) window[0] = bos;
    return window;
}

double log_sum_exp(const std::vector<double> &row) {
    const double max = *std::max_element(row.begin(), row.end());
    double sum = 0.0;
    for (double v : row) sum += std::exp(v - max);
    return max + std::log(sum);
}

// The reference's perplexity and its uncertainty over `n_chunks` chunks of `n_ctx` tokens.
void reference_perplexity(const std::string &path, int n_ctx, int n_chunks, bool a8, double *ppl, double *error) {
    bitnet_test::ModelPtr vocab = bitnet_test::load_model(path);
    const std::vector<bitnet_token> tokens = tokenize_text(vocab.get());
    ASSERT_GE(static_cast<int>(tokens.size()), n_ctx * n_chunks);
    const bitnet_token bos = bitnet_vocab_bos(vocab.get());
    const bitnet_reference::Model model = bitnet_reference::Model::load(path);
    bitnet_reference::Options options;
    options.quantize_activations = a8;
    options.kv_f16 = true;  // the tool's default KV cache type
    std::vector<double> nll;
    for (int c = 0; c < n_chunks; ++c) {
        const auto logits = bitnet_reference::forward(model, chunk_window(tokens, bos, n_ctx, c), options);
        for (int j = n_ctx / 2; j < n_ctx - 1; ++j) {
            const int next = tokens[static_cast<size_t>(c * n_ctx + j + 1)];
            nll.push_back(log_sum_exp(logits[j]) - logits[j][next]);
        }
    }
    double mean = 0.0, mean2 = 0.0;
    for (double v : nll) {
        mean += v / static_cast<double>(nll.size());
        mean2 += v * v / static_cast<double>(nll.size());
    }
    *ppl = std::exp(mean);
    *error = std::sqrt((mean2 - mean * mean) / static_cast<double>(nll.size() - 1)) * *ppl;
}

void check_against_reference(const std::string &model, int n_ctx, int n_chunks, bool a8, double tolerance = 5e-4) {
    ASSERT_FALSE(bitnet_test::read_file_if_exists(kTool).empty()) << kTool << " is not built";
    std::vector<std::string> args = {"-m", model, "-f", kText, "-c", std::to_string(n_ctx), "--chunks",
                                     std::to_string(n_chunks), "-t", "2"};
    if (!a8) args.push_back("--no-act-quant");
    const ToolResult run = run_tool(args);
    ASSERT_EQ(run.status, 0) << run.err;
    double ppl = 0.0, error = 0.0;
    reference_perplexity(model, n_ctx, n_chunks, a8, &ppl, &error);
    expect_close(number_after(run.out, "PPL = "), ppl, tolerance, "PPL");
    expect_close(number_after(run.out, "+/- "), error, tolerance, "PPL uncertainty");
    EXPECT_NE(run.out.find("[" + std::to_string(n_chunks) + "]"), std::string::npos) << run.out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The arithmetic, on values worked out by hand.

TEST(PerplexityMath, StatisticsFollowTheFormulas) {
    bitnet_cli::PerplexityStats stats;
    for (double nll : {1.0, 2.0, 3.0}) stats.add(nll);
    EXPECT_DOUBLE_EQ(stats.ppl(), std::exp(2.0));
    // E[x^2] - E[x]^2 = 14/3 - 4 = 2/3; / (n - 1) = 1/3.
    EXPECT_NEAR(stats.uncertainty(), std::sqrt(1.0 / 3.0) * std::exp(2.0), 1e-12);
    bitnet_cli::PerplexityStats flat;
    flat.add(0.5);
    flat.add(0.5);
    EXPECT_LT(flat.uncertainty(), 0.0) << "no variance: undefined, not 0";

    const std::vector<double> sorted = {1.0, 2.0, 3.0, 4.0};
    EXPECT_DOUBLE_EQ(bitnet_cli::percentile(sorted, 0.5), 2.5);
    EXPECT_DOUBLE_EQ(bitnet_cli::percentile(sorted, 0.99), 3.97);
    EXPECT_DOUBLE_EQ(bitnet_cli::percentile(sorted, 1.0), 4.0);
}

TEST(PerplexityMath, TokenDivergenceOfTwoTokenDistributions) {
    // base p = (1/2, 1/2); current q = (1/4, 3/4).
    const float base[2] = {0.0f, 0.0f};
    const float current[2] = {0.0f, static_cast<float>(std::log(3.0))};
    const bitnet_cli::TokenDivergence d = bitnet_cli::compare_rows(base, current, 2, 0);
    EXPECT_NEAR(d.kld, 0.5 * std::log(2.0) + 0.5 * std::log(2.0 / 3.0), 1e-7);
    EXPECT_NEAR(d.dp_token, 0.25 - 0.5, 1e-7);
    EXPECT_NEAR(d.dp_base_top, 0.25 - 0.5, 1e-7) << "base top is token 0 (lowest id among equals)";
    EXPECT_FALSE(d.same_top);
    EXPECT_NEAR(d.nll_current, std::log(4.0), 1e-7);
    const bitnet_cli::TokenDivergence self = bitnet_cli::compare_rows(current, current, 2, 1);
    EXPECT_NEAR(self.kld, 0.0, 1e-12);
    EXPECT_TRUE(self.same_top);
}

TEST(PerplexityMath, ChunkPlanRefusesShortInput) {
    bitnet_cli::ChunkPlan plan;
    EXPECT_NE(bitnet_cli::plan_chunks(0, 64, 0, BITNET_TOKEN_NULL, &plan).find("empty"), std::string::npos);
    EXPECT_NE(bitnet_cli::plan_chunks(127, 64, 0, BITNET_TOKEN_NULL, &plan).find("at least 128"), std::string::npos);
    ASSERT_EQ(bitnet_cli::plan_chunks(300, 64, 0, 1, &plan), "");
    EXPECT_EQ(plan.n_chunks, 4);
    EXPECT_EQ(plan.first, 32);
    EXPECT_EQ(plan.scored_per_chunk(), 31);
    ASSERT_EQ(bitnet_cli::plan_chunks(300, 64, 2, 1, &plan), "");
    EXPECT_EQ(plan.n_chunks, 2);
    // Batches of 100 over a group of 3 chunks of 64 (192 tokens): the first holds chunk 0 (31
    // scored) and positions 0..35 of chunk 1 (32..35 scored: 4); the second the rest of chunk 1
    // (36..62: 27) and all of chunk 2 (31): 58.
    ASSERT_EQ(bitnet_cli::plan_chunks(300, 64, 0, 1, &plan), "");
    EXPECT_EQ(bitnet_cli::max_scored_per_batch(plan, 3, 100), 58);
}

TEST(PerplexityMath, BaseFileRoundTripAndAtomicWrite) {
    const std::string path = bitnet_test::temp_dir() + "/roundtrip.kld";
    bitnet_cli::KldHeader header;
    header.fingerprint = 0x1234;
    header.n_vocab = 3;
    header.n_ctx = 4;
    header.n_chunks = 2;
    header.first = 2;
    header.n_scored = 2;
    header.tokens_hash = 77;
    header.n_text_tokens = 9;
    {
        bitnet_cli::KldWriter writer;
        ASSERT_TRUE(writer.open(path, header)) << writer.error();
        const float row[3] = {1, 2, 3};
        ASSERT_TRUE(writer.write_row(row));
        EXPECT_FALSE(writer.finish()) << "one row of two";
    }
    EXPECT_TRUE(bitnet_test::read_file_if_exists(path).empty()) << "an unfinished file appeared";
    EXPECT_TRUE(bitnet_test::read_file_if_exists(path + ".tmp").empty()) << "the temporary file was left";
    {
        bitnet_cli::KldWriter writer;
        ASSERT_TRUE(writer.open(path, header));
        const float a[3] = {1, 2, 3}, b[3] = {-1, 0.5f, 7};
        ASSERT_TRUE(writer.write_row(a) && writer.write_row(b));
        ASSERT_TRUE(writer.finish()) << writer.error();
    }
    EXPECT_EQ(bitnet_test::read_file(path).size(), 64u + 2 * 3 * 4 + 8);
    bitnet_cli::KldReader reader;
    ASSERT_TRUE(reader.open(path)) << reader.error();
    EXPECT_EQ(reader.header().fingerprint, 0x1234u);
    EXPECT_EQ(reader.header().tokens_hash, 77u);
    std::vector<float> row;
    ASSERT_TRUE(reader.read_row(&row));
    ASSERT_TRUE(reader.read_row(&row));
    EXPECT_EQ(row, (std::vector<float>{-1, 0.5f, 7}));
}

// ---------------------------------------------------------------------------------------------
// The printed perplexity against the double-precision reference.

TEST(PerplexityTool, TrainedFloatModelMatchesReference) {
    BITNET_REQUIRE_FIXTURE(model, "tiny/aidreams260K-f32.gguf");
    check_against_reference(model, 64, 4, false);
}

// Float activations (--no-act-quant): the engine and the reference then differ only by float
// rounding. With BitNet's int8 activations a last-bit difference can round an activation to the
// neighbouring int8 code (tests/test_forward.cpp allows 4% relative RMS on the logits there), so
// that run is held to 1% only: it checks the A8 path is the one scored, not the 4th digit.
TEST(PerplexityTool, SyntheticBitnetFloatModelMatchesReference) {
    check_against_reference(bitnet_test::synthetic_model("tiny", "f32"), 128, 2, false);
}

TEST(PerplexityTool, SyntheticBitnetModelWithInt8ActivationsNearReference) {
    check_against_reference(bitnet_test::synthetic_model("tiny", "f32"), 128, 2, true, 1e-2);
}

TEST(PerplexityTool, ParallelGivesTheSameOutput) {
    BITNET_REQUIRE_FIXTURE(model, "tiny/aidreams260K-f32.gguf");
    const std::vector<std::string> common = {"-m", model, "-f", kText, "-c", "64", "--chunks", "7", "-t", "2"};
    auto with = [&](std::vector<std::string> extra) {
        std::vector<std::string> args = common;
        args.insert(args.end(), extra.begin(), extra.end());
        return run_tool(args);
    };
    const ToolResult one = with({"--parallel", "1"});
    ASSERT_EQ(one.status, 0) << one.err;
    ASSERT_NE(one.out.find("Final estimate: PPL = "), std::string::npos) << one.out;
    for (const auto &extra : std::vector<std::vector<std::string>>{
             {"--parallel", "4"}, {"--parallel", "3", "-b", "64"}, {"--parallel", "1", "-b", "50"}}) {
        SCOPED_TRACE(extra[1] + (extra.size() > 2 ? " -b " + extra[3] : ""));
        const ToolResult many = with(extra);
        ASSERT_EQ(many.status, 0) << many.err;
        EXPECT_EQ(many.out, one.out) << "every running value and the final PPL must be the same";
    }
    // Several sequences only share a decode in whole chunks (see cmd_perplexity.cpp).
    const ToolResult ragged = with({"--parallel", "3", "-b", "50"});
    EXPECT_EQ(ragged.status, 2);
    EXPECT_NE(ragged.err.find("multiple of n_ctx"), std::string::npos) << ragged.err;
}

// ---------------------------------------------------------------------------------------------
// KL divergence.

namespace {

struct DirectDivergence {
    double mean = 0.0, median = 0.0, max = 0.0, same_top = 0.0;
};

// KL(P_head_a || P_head_b) over the scored tokens, from the engine's logits through the public
// API (one batch per chunk, F16 KV as the tool uses), softmax and sums written out here.
DirectDivergence direct_divergence(const std::string &path, bitnet_head_type head_a, bitnet_head_type head_b,
                                   int n_ctx, int n_chunks) {
    auto load = [&](bitnet_head_type head) {
        bitnet_model_params params = bitnet_model_default_params();
        params.head_type = head;
        bitnet_model *model = nullptr;
        EXPECT_EQ(bitnet_model_load_file(path.c_str(), &params, &model), BITNET_OK) << bitnet_last_error();
        return bitnet_test::ModelPtr(model);
    };
    bitnet_test::ModelPtr a = load(head_a), b = load(head_b);
    const std::vector<bitnet_token> tokens = tokenize_text(a.get());
    const bitnet_token bos = bitnet_vocab_bos(a.get());
    bitnet_test::RunOptions options;
    options.kv_type = BITNET_KV_F16;
    std::vector<double> kld;
    size_t same = 0;
    for (int c = 0; c < n_chunks; ++c) {
        const std::vector<int> window = chunk_window(tokens, bos, n_ctx, c);
        const auto la = bitnet_test::engine_logits(a.get(), window, options);
        const auto lb = bitnet_test::engine_logits(b.get(), window, options);
        for (int j = n_ctx / 2; j < n_ctx - 1; ++j) {
            const std::vector<double> ra(la[j].begin(), la[j].end()), rb(lb[j].begin(), lb[j].end());
            const double za = log_sum_exp(ra), zb = log_sum_exp(rb);
            double sum = 0.0;
            for (size_t i = 0; i < ra.size(); ++i) sum += std::exp(ra[i] - za) * ((ra[i] - za) - (rb[i] - zb));
            kld.push_back(sum);
            same += std::max_element(ra.begin(), ra.end()) - ra.begin() == std::max_element(rb.begin(), rb.end()) - rb.begin();
        }
    }
    DirectDivergence d;
    for (double v : kld) d.mean += v / static_cast<double>(kld.size());
    std::sort(kld.begin(), kld.end());
    const size_t n = kld.size();
    d.median = n % 2 ? kld[n / 2] : 0.5 * (kld[n / 2 - 1] + kld[n / 2]);
    d.max = kld.back();
    d.same_top = static_cast<double>(same) / static_cast<double>(n);
    return d;
}

}  // namespace

TEST(PerplexityTool, KlDivergenceOfModelAgainstItselfIsZero) {
    BITNET_REQUIRE_FIXTURE(model, "tiny/aidreams260K-f32.gguf");
    const std::string base = bitnet_test::temp_dir() + "/self.kld";
    const ToolResult save = run_tool({"-m", model, "-f", kText, "-c", "64", "--chunks", "3", "--kl-divergence-base", base});
    ASSERT_EQ(save.status, 0) << save.err;
    // n_ctx and chunks come from the base file; --parallel must not change the logits either.
    const ToolResult compare = run_tool({"-m", model, "-f", kText, "--kl-divergence", base, "--parallel", "3", "--json"});
    ASSERT_EQ(compare.status, 0) << compare.err;
    EXPECT_NEAR(number_after(compare.out, "\"mean\": "), 0.0, 1e-6) << compare.out;
    EXPECT_NEAR(number_after(compare.out, "\"max\": "), 0.0, 1e-6) << compare.out;
    EXPECT_EQ(number_after(compare.out, "\"same_top\": "), 1.0) << compare.out;
    EXPECT_EQ(number_after(compare.out, "\"tokens\": "), 3 * 31) << compare.out;
}

TEST(PerplexityTool, KlDivergenceOfReencodedHeadsMatchesDirectComputation) {
    BITNET_REQUIRE_FIXTURE(model, "tiny/aidreams260K-f32.gguf");
    const int n_ctx = 64, n_chunks = 3;
    const std::string base = bitnet_test::temp_dir() + "/f16-head.kld";
    const ToolResult save = run_tool({"-m", model, "-f", kText, "-c", std::to_string(n_ctx), "--chunks",
                                      std::to_string(n_chunks), "--head-type", "f16", "--kl-divergence-base", base});
    ASSERT_EQ(save.status, 0) << save.err;
    double mean_kld[2] = {0, 0};
    const struct {
        const char *name;
        bitnet_head_type type;
    } heads[2] = {{"q8_0", BITNET_HEAD_Q8_0}, {"q4_0", BITNET_HEAD_Q4_0}};
    for (int h = 0; h < 2; ++h) {
        SCOPED_TRACE(heads[h].name);
        const ToolResult run = run_tool({"-m", model, "-f", kText, "--head-type", heads[h].name, "--kl-divergence", base, "--json"});
        ASSERT_EQ(run.status, 0) << run.err;
        const DirectDivergence direct = direct_divergence(model, BITNET_HEAD_F16, heads[h].type, n_ctx, n_chunks);
        mean_kld[h] = number_after(run.out, "\"mean\": ");
        EXPECT_NEAR(mean_kld[h], direct.mean, 1e-6 + 1e-4 * direct.mean) << run.out;
        EXPECT_NEAR(number_after(run.out, "\"median\": "), direct.median, 1e-6 + 1e-4 * direct.median);
        EXPECT_NEAR(number_after(run.out, "\"max\": "), direct.max, 1e-6 + 1e-4 * direct.max);
        EXPECT_NEAR(number_after(run.out, "\"same_top\": "), direct.same_top, 1e-9);
        EXPECT_GT(mean_kld[h], 0.0) << "a re-encoded head changes the distributions";
    }
    EXPECT_GT(mean_kld[1], mean_kld[0]) << "Q4_0 must lose more than Q8_0";
}

// ---------------------------------------------------------------------------------------------
// Bad input: a message saying what is wrong and exit status 1, never a crash.

namespace {

void expect_refused(const ToolResult &run, const std::string &message) {
    EXPECT_EQ(run.status, 1) << "stderr: " << run.err;
    EXPECT_NE(run.err.find(message), std::string::npos) << "stderr lacks '" << message << "': " << run.err;
}

}  // namespace

TEST(PerplexityTool, RefusesEmptyAndShortText) {
    BITNET_REQUIRE_FIXTURE(model, "tiny/aidreams260K-f32.gguf");
    const std::string dir = bitnet_test::temp_dir();
    bitnet_test::write_file(dir + "/empty.txt", {});
    expect_refused(run_tool({"-m", model, "-f", dir + "/empty.txt"}), "is empty");
    const std::string short_text = "Four score and seven years ago our fathers brought forth on this continent.";
    bitnet_test::write_file(dir + "/short.txt", std::vector<uint8_t>(short_text.begin(), short_text.end()));
    expect_refused(run_tool({"-m", model, "-f", dir + "/short.txt", "-c", "64"}), "at least 128");
    expect_refused(run_tool({"-m", model, "-f", dir + "/missing.txt"}), "cannot open");
}

TEST(PerplexityTool, RefusesBadBaseFiles) {
    BITNET_REQUIRE_FIXTURE(model, "tiny/aidreams260K-f32.gguf");
    const std::string dir = bitnet_test::temp_dir();
    const std::string base = dir + "/good.kld";
    ASSERT_EQ(run_tool({"-m", model, "-f", kText, "-c", "64", "--chunks", "2", "--kl-divergence-base", base}).status, 0);
    const std::vector<uint8_t> bytes = bitnet_test::read_file(base);
    auto compare = [&](const std::string &file, const std::string &text = kText) {
        return run_tool({"-m", model, "-f", text, "--kl-divergence", file});
    };

    std::vector<uint8_t> cut(bytes.begin(), bytes.end() - 100);
    bitnet_test::write_file(dir + "/truncated.kld", cut);
    expect_refused(compare(dir + "/truncated.kld"), "truncated");
    bitnet_test::write_file(dir + "/header-only.kld", std::vector<uint8_t>(bytes.begin(), bytes.begin() + 20));
    expect_refused(compare(dir + "/header-only.kld"), "shorter than its 64-byte header");

    std::vector<uint8_t> flipped = bytes;
    flipped[flipped.size() / 2] ^= 0x40;
    bitnet_test::write_file(dir + "/flipped.kld", flipped);
    expect_refused(compare(dir + "/flipped.kld"), "checksum");

    const std::string not_kld = "this is not a base file at all, just some text long enough for a header......";
    bitnet_test::write_file(dir + "/text.kld", std::vector<uint8_t>(not_kld.begin(), not_kld.end()));
    expect_refused(compare(dir + "/text.kld"), "not a KL-divergence base file");
    expect_refused(compare(dir + "/absent.kld"), "cannot open");

    // Another model: a synthetic bitnet model with its own byte-level vocabulary.
    const std::string other = dir + "/other-model.kld";
    ASSERT_EQ(run_tool({"-m", bitnet_test::synthetic_model("tiny", "f32"), "-f", kText, "-c", "64", "--chunks", "2",
                        "--kl-divergence-base", other}).status, 0);
    expect_refused(compare(other), "another model");

    // Other text: the same words with the two documents swapped.
    const auto original = bitnet_test::read_file(kText);
    std::string swapped(original.begin(), original.end());
    const size_t split = swapped.find("Four score");
    ASSERT_NE(split, std::string::npos);
    swapped = swapped.substr(split) + "\n" + swapped.substr(0, split);
    bitnet_test::write_file(dir + "/swapped.txt", std::vector<uint8_t>(swapped.begin(), swapped.end()));
    expect_refused(compare(base, dir + "/swapped.txt"), "another text");

    // Another context size than the base's.
    expect_refused(run_tool({"-m", model, "-f", kText, "-c", "32", "--kl-divergence", base}), "use the base run's");
}
