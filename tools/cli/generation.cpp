#include "generation.h"

#include "speculative_options.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "../common/stop_filter.h"

namespace bitnet_cli {

const char *const kSamplingOptionsHelp =
    "  --temp T              temperature (default 0.8; 0 = greedy)\n"
    "  --top-k K             keep the K most likely tokens (default 40; 0 = off)\n"
    "  --top-p P             keep the smallest set with probability >= P (default 0.95; 1 = off)\n"
    "  --min-p P             drop tokens below P x the best one's probability (default 0.05; 0 = off)\n"
    "  --repeat-penalty R    penalise tokens of the last --repeat-last-n (default 1.0 = off, 64)\n"
    "  --seed N              random seed (default: random, printed)\n";

bool parse_sampling_option(int argc, char **argv, int *i, SamplingOptions *options, std::string *error) {
    const std::string arg = argv[*i];
    const char *names[] = {"--temp", "--top-k", "--top-p", "--min-p", "--repeat-penalty", "--repeat-last-n", "--seed"};
    int which = -1;
    for (int k = 0; k < 7; ++k) {
        if (arg == names[k]) which = k;
    }
    if (which < 0) return false;
    if (*i + 1 >= argc) {
        *error = arg + " needs a value";
        return true;
    }
    const char *text = argv[++*i];
    char *end = nullptr;
    const double value = std::strtod(text, &end);
    if (*end || !*text || !std::isfinite(value)) {
        *error = arg + " needs a number, got '" + text + "'";
        return true;
    }
    switch (which) {
        case 0: options->temperature = static_cast<float>(value); break;
        case 1: options->top_k = static_cast<int32_t>(value); break;
        case 2: options->top_p = static_cast<float>(value); break;
        case 3: options->min_p = static_cast<float>(value); break;
        case 4: options->repeat_penalty = static_cast<float>(value); break;
        case 5: options->repeat_last_n = static_cast<int32_t>(value); break;
        case 6: options->seed = static_cast<uint32_t>(value); break;
    }
    return true;
}

bitnet_sampler *make_sampler(const SamplingOptions &options) {
    bitnet_sampler *chain = nullptr;
    if (bitnet_sampler_chain_new(nullptr, &chain) != BITNET_OK) return nullptr;
    bitnet_sampler *member = nullptr;
    // Each init call below fills `member`; the chain then takes it.
    auto add = [&](bitnet_status status) {
        if (status == BITNET_OK && bitnet_sampler_chain_add(chain, member) != BITNET_OK) bitnet_sampler_free(member);
    };
    if (options.repeat_penalty != 1.0f) {
        add(bitnet_sampler_init_penalties(options.repeat_last_n, options.repeat_penalty, 0.0f, 0.0f, &member));
    }
    if (options.temperature <= 0.0f) {
        add(bitnet_sampler_init_greedy(&member));
        return chain;
    }
    if (options.top_k > 0) add(bitnet_sampler_init_top_k(options.top_k, &member));
    if (options.top_p < 1.0f) add(bitnet_sampler_init_top_p(options.top_p, 1, &member));
    if (options.min_p > 0.0f) add(bitnet_sampler_init_min_p(options.min_p, 1, &member));
    add(bitnet_sampler_init_temperature(options.temperature, &member));
    add(bitnet_sampler_init_dist(options.seed, &member));
    return chain;
}

std::string describe_sampler(const SamplingOptions &options, const bitnet_sampler *chain) {
    if (options.temperature <= 0.0f) return "greedy";
    const bitnet_sampler *dist = bitnet_sampler_chain_get(chain, bitnet_sampler_chain_n(chain) - 1);
    return "seed " + std::to_string(bitnet_sampler_get_seed(dist));
}

bool tokenize(const bitnet_model *model, const std::string &text, bool add_special, bool parse_special,
              std::vector<bitnet_token> *tokens) {
    const int32_t length = static_cast<int32_t>(text.size());
    int32_t n = bitnet_tokenize(model, text.data(), length, nullptr, 0, add_special, parse_special);
    if (n == BITNET_COUNT_ERROR) return false;
    tokens->resize(static_cast<size_t>(n < 0 ? -n : n));
    n = bitnet_tokenize(model, text.data(), length, tokens->data(), static_cast<int32_t>(tokens->size()), add_special,
                        parse_special);
    if (n < 0) return false;
    tokens->resize(static_cast<size_t>(n));
    return true;
}

bitnet_status decode_prompt(bitnet_context *context, bitnet_batch *batch, const std::vector<bitnet_token> &tokens,
                            int32_t *pos) {
    const int32_t seq = 0;
    const size_t n_batch = bitnet_context_n_batch(context);
    for (size_t first = 0; first < tokens.size(); first += n_batch) {
        bitnet_batch_clear(batch);
        const size_t last = std::min(tokens.size(), first + n_batch);
        for (size_t i = first; i < last; ++i) bitnet_batch_add(batch, tokens[i], (*pos)++, &seq, 1, i + 1 == tokens.size());
        bitnet_status status = bitnet_decode(context, batch);
        if (status != BITNET_OK) {
            *pos -= static_cast<int32_t>(last - first);
            return status;
        }
    }
    return BITNET_OK;
}

namespace {

// Prints text the stop filter lets through, as it arrives, and keeps it in *printed.
void print(const std::string &text, std::string *printed) {
    if (text.empty()) return;
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    *printed += text;
}

// One piece through the filter: prints what is safe; true when a stop string completed.
bool push_and_print(bitnet_tools::StopFilter *filter, const std::string &piece, std::string *printed) {
    std::string safe;
    const bool stopped = filter->push(piece, &safe);
    print(safe, printed);
    return stopped;
}

// The end of a generation that no stop string ended: the detokenizer's held-back bytes, then
// whatever the stop filter still holds (a prefix of a stop string that never completed).
void flush_output(bitnet_detokenizer *detokenizer, bitnet_tools::StopFilter *filter, std::string *text) {
    char piece[512];
    const int32_t n = bitnet_detokenizer_flush(detokenizer, piece, sizeof piece);
    if (n > 0 && push_and_print(filter, std::string(piece, static_cast<size_t>(n)), text)) return;
    std::string rest;
    filter->flush(&rest);
    print(rest, text);
}

}  // namespace

GenerationResult generate(bitnet_context *context, bitnet_batch *batch, bitnet_sampler *sampler, int32_t *pos,
                          int32_t n_predict, const std::vector<std::string> &stop, bool ignore_eos) {
    GenerationResult result;
    const bitnet_model *model = bitnet_context_model(context);
    bitnet_detokenizer *detokenizer = nullptr;
    result.status = bitnet_detokenizer_new(model, false, &detokenizer);
    if (result.status != BITNET_OK) return result;
    bitnet_tools::StopFilter filter(stop);
    const auto start = std::chrono::steady_clock::now();
    const int32_t seq = 0;
    char piece[512];
    bool stopped = false;
    for (int32_t i = 0; i < n_predict && !stopped; ++i) {
        const bitnet_token token = bitnet_sampler_sample(sampler, context, -1);
        if (token == BITNET_TOKEN_NULL) {
            result.status = BITNET_ERR_INVALID_ARGUMENT;
            break;
        }
        if (!ignore_eos && bitnet_token_is_eog(model, token)) {
            result.ended_by_eog = true;
            result.end_token = token;
            break;
        }
        bitnet_batch_clear(batch);
        bitnet_batch_add(batch, token, *pos, &seq, 1, true);
        result.status = bitnet_decode(context, batch);
        if (result.status != BITNET_OK) break;
        ++*pos;
        result.tokens.push_back(token);
        const int32_t n = bitnet_detokenizer_push(detokenizer, token, piece, sizeof piece);
        if (n > 0) stopped = push_and_print(&filter, std::string(piece, static_cast<size_t>(n)), &result.text);
    }
    if (!stopped) flush_output(detokenizer, &filter, &result.text);
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    bitnet_detokenizer_free(detokenizer);
    return result;
}

GenerationResult generate_speculative(bitnet_context *context, bitnet_speculative *helper, bitnet_sampler *sampler,
                                      const std::vector<bitnet_token> &history, int32_t *pos, int32_t n_predict,
                                      const std::vector<std::string> &stop, bool ignore_eos) {
    GenerationResult result;
    const bitnet_model *model = bitnet_context_model(context);
    bitnet_detokenizer *detokenizer = nullptr;
    result.status = bitnet_detokenizer_new(model, false, &detokenizer);
    if (result.status != BITNET_OK) return result;
    bitnet_tools::StopFilter filter(stop);
    const auto start = std::chrono::steady_clock::now();
    // `sequence` is what the helper has produced; the context holds all of it but the last token.
    std::vector<bitnet_token> sequence = history;
    char piece[512];
    bool stopped = false;
    while (static_cast<int32_t>(result.tokens.size()) < n_predict && !stopped && !result.ended_by_eog) {
        bitnet_token out[65];
        const int32_t room = std::min<int32_t>(65, n_predict - static_cast<int32_t>(result.tokens.size()));
        const int32_t n = bitnet_speculative_generate(helper, sampler, 0, sequence.data(),
                                                      static_cast<int32_t>(sequence.size()), out, room);
        if (n < 1) {
            result.status = bitnet_last_status();
            break;
        }
        sequence.insert(sequence.end(), out, out + n);
        for (int32_t j = 0; j < n && !stopped; ++j) {
            if (!ignore_eos && bitnet_token_is_eog(model, out[j])) {
                result.ended_by_eog = true;
                result.end_token = out[j];
                break;
            }
            result.tokens.push_back(out[j]);
            const int32_t length = bitnet_detokenizer_push(detokenizer, out[j], piece, sizeof piece);
            if (length > 0) stopped = push_and_print(&filter, std::string(piece, static_cast<size_t>(length)), &result.text);
        }
    }
    if (!stopped) flush_output(detokenizer, &filter, &result.text);
    // Leave the cache as generate() does: history and the returned tokens. The helper may have
    // kept tokens past a stop string (remove them) or left the last one waiting (decode it).
    const int32_t wanted = static_cast<int32_t>(history.size() + result.tokens.size());
    const int32_t held = static_cast<int32_t>(sequence.size()) - 1;
    if (result.status == BITNET_OK && held > wanted) result.status = bitnet_seq_rm(context, 0, wanted, -1);
    if (result.status == BITNET_OK && held < wanted) {
        std::vector<bitnet_token> last = {sequence[static_cast<size_t>(wanted) - 1]};
        int32_t at = wanted - 1;
        bitnet_batch *batch = nullptr;
        result.status = bitnet_batch_new(1, &batch);
        if (result.status == BITNET_OK) result.status = decode_prompt(context, batch, last, &at);
        bitnet_batch_free(batch);
    }
    *pos = wanted;
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    bitnet_detokenizer_free(detokenizer);
    return result;
}

}  // namespace bitnet_cli
