// bitnet chat: an interactive multi-turn chat in the model's template. The KV cache is kept
// between turns, so each turn processes only the text it adds; --prompt-cache saves the
// conversation and its cache after every turn and resumes them on the next start.
#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bitnet.h"
#include "command.h"
#include "generation.h"
#include "model_options.h"
#include "speculative_options.h"

namespace {

const char *const kUsage =
    "usage: bitnet chat -m MODEL [--system TEXT] [--template NAME] [--prompt-cache FILE] [-n N] [options]\n"
    "Reads one user message per line from standard input; an empty input ends the chat.\n"
    "  --system TEXT         system message that opens the conversation\n"
    "  --template NAME       bitnet, llama3, llama2 or falcon3 (default: from the model)\n"
    "  --prompt-cache FILE   resume the conversation saved in FILE and save it after every turn\n"
    "  -n, --n-predict N     most tokens per reply (default 256)\n"
    "  --no-context-shift    fail instead of dropping old turns when the context is full\n";

struct Message {
    std::string role, content;
};

struct Chat {
    const bitnet_model *model = nullptr;
    bitnet_context *context = nullptr;
    bitnet_batch *batch = nullptr;
    bitnet_sampler *sampler = nullptr;
    std::string template_name;
    std::vector<Message> messages;
    std::string rendered;                  // the conversation's text so far
    std::vector<bitnet_token> cached;      // the tokens the KV cache holds, in order
    int32_t n_keep = 0;                    // leading tokens a context shift never drops
    bool context_shift = true;
    // Why the last step failed: set by the step, printed by run_chat.
    bitnet_status error_status = BITNET_OK;
    std::string error;
};

// MinGW's GCC reads "printf" as Microsoft's dialect (no %zu); libstdc++'s vsnprintf is C99's there.
#if defined(__MINGW32__)
std::string format(const char *fmt, ...) __attribute__((format(gnu_printf, 1, 2)));
#else
std::string format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#endif
std::string format(const char *fmt, ...) {
    char buffer[1024];
    va_list args;
    va_start(args, fmt);
    std::vsnprintf(buffer, sizeof buffer, fmt, args);
    va_end(args);
    return buffer;
}

// Record a failure of a library call (its message is bitnet_last_error()) and return false.
bool library_failure(Chat &chat, bitnet_status status, const char *what) {
    chat.error_status = status;
    chat.error = std::string(what) + ": " + bitnet_last_error();
    return false;
}

int report(const Chat &chat) {
    std::fprintf(stderr, "bitnet: chat: %s: %s\n", bitnet_status_string(chat.error_status), chat.error.c_str());
    return 1;
}

bool render(Chat &chat, bool add_assistant_prompt, std::string *out) {
    std::vector<bitnet_chat_message> list;
    for (const Message &m : chat.messages) list.push_back({m.role.c_str(), m.content.c_str()});
    const char *name = chat.template_name.empty() ? nullptr : chat.template_name.c_str();
    std::vector<char> buffer(4096);
    for (;;) {
        int32_t n = bitnet_chat_apply_template(chat.model, name, list.data(), list.size(), add_assistant_prompt,
                                               buffer.data(), static_cast<int32_t>(buffer.size()));
        if (n == BITNET_COUNT_ERROR) return library_failure(chat, bitnet_last_status(), "chat template");
        if (n >= 0) {
            out->assign(buffer.data(), static_cast<size_t>(n));
            return true;
        }
        buffer.resize(static_cast<size_t>(-n));
    }
}

// Tokens for text appended to the conversation; the very first chunk starts with BOS.
bool tokenize_continuation(Chat &chat, const std::string &text, std::vector<bitnet_token> *tokens) {
    if (!bitnet_cli::tokenize(chat.model, text, false, true, tokens)) {
        return library_failure(chat, bitnet_last_status(), "tokenizing the conversation");
    }
    const bitnet_token bos = bitnet_vocab_bos(chat.model);
    if (chat.cached.empty() && bos != BITNET_TOKEN_NULL && (tokens->empty() || tokens->front() != bos)) {
        tokens->insert(tokens->begin(), bos);
    }
    return true;
}

// Drop the older half of what follows the kept prefix and move the rest down (RoPE re-rotation),
// so that `needed` more tokens (`what`) fit. On failure chat.error says why and what to do.
bool make_room(Chat &chat, size_t needed, const char *what) {
    const size_t n_ctx = bitnet_context_n_ctx(chat.context);
    if (chat.cached.size() + needed <= n_ctx) return true;
    chat.error_status = BITNET_ERR_CONTEXT_FULL;
    if (!chat.context_shift) {
        chat.error = format("no room for %s: %zu more tokens needed, the context (-c %zu) already holds %zu and "
                            "dropping old turns is off (--no-context-shift); start a new chat, or use a larger -c",
                            what, needed, n_ctx, chat.cached.size());
        return false;
    }
    if (static_cast<size_t>(chat.n_keep) + needed > n_ctx) {
        const std::string kept = chat.n_keep == 0 ? std::string()
                                                  : format(" besides the %d tokens of the system prompt", chat.n_keep);
        chat.error = format("no room for %s: %zu tokens needed, the context (-c %zu) has room for only %zu%s, even "
                            "with every older turn dropped; use a larger -c, a smaller -n or a shorter message",
                            what, needed, n_ctx, n_ctx - static_cast<size_t>(chat.n_keep), kept.c_str());
        return false;
    }
    const int32_t n_left = static_cast<int32_t>(chat.cached.size()) - chat.n_keep;
    const int32_t n_discard = std::max<int32_t>(n_left / 2, static_cast<int32_t>(chat.cached.size() + needed - n_ctx));
    const int32_t end = chat.n_keep + std::min(n_discard, n_left);
    bitnet_status status = bitnet_seq_rm(chat.context, 0, chat.n_keep, end);
    if (status == BITNET_OK) status = bitnet_seq_add(chat.context, 0, end, -1, chat.n_keep - end);
    if (status != BITNET_OK) return library_failure(chat, status, "dropping old tokens from the context");
    chat.cached.erase(chat.cached.begin() + chat.n_keep, chat.cached.begin() + end);
    chat.error_status = BITNET_OK;
    chat.error.clear();
    std::fprintf(stderr, "[chat] context full: dropped %d old tokens (-c %zu; kept the first %d and the last %zu)\n",
                 end - chat.n_keep, n_ctx, chat.n_keep, chat.cached.size() - static_cast<size_t>(chat.n_keep));
    return true;
}

// Bring the cache to hold `text` (the conversation rendered so far plus what this step adds), with
// room for `reserve` more tokens after it (the reply). Returns the number of tokens decoded, or -1
// on failure.
int32_t extend_cache(Chat &chat, const std::string &text, const char *what, size_t reserve = 0) {
    std::vector<bitnet_token> tokens;
    if (text.compare(0, chat.rendered.size(), chat.rendered) == 0) {
        if (!tokenize_continuation(chat, text.substr(chat.rendered.size()), &tokens)) return -1;
    } else {
        // The template rewrote earlier text (e.g. trimmed a reply): re-tokenize and keep the
        // longest common prefix of the cache.
        std::vector<bitnet_token> all;
        Chat fresh;
        fresh.model = chat.model;
        if (!tokenize_continuation(fresh, text, &all)) {
            chat.error_status = fresh.error_status;
            chat.error = fresh.error;
            return -1;
        }
        size_t common = 0;
        while (common < all.size() && common < chat.cached.size() && all[common] == chat.cached[common]) ++common;
        bitnet_status status = bitnet_seq_rm(chat.context, 0, static_cast<int32_t>(common), -1);
        if (status != BITNET_OK) return library_failure(chat, status, "re-using the cache"), -1;
        chat.cached.resize(common);
        tokens.assign(all.begin() + static_cast<long>(common), all.end());
    }
    if (!make_room(chat, tokens.size() + reserve, what)) return -1;
    int32_t pos = static_cast<int32_t>(chat.cached.size());
    bitnet_status status = bitnet_cli::decode_prompt(chat.context, chat.batch, tokens, &pos);
    if (status != BITNET_OK) return library_failure(chat, status, "decoding the message"), -1;
    chat.cached.insert(chat.cached.end(), tokens.begin(), tokens.end());
    chat.rendered = text;
    return static_cast<int32_t>(tokens.size());
}

// End the reply for the model as generation ended it: with the EOG token it sampled, or, when the
// length limit cut it, with the end-of-turn token. The cache then holds the closed turn and the
// conversation text is re-rendered with the reply, so the next turn only appends. (Templates may
// trim a reply's whitespace; the cache keeps the tokens as generated, as other engines do.)
int32_t close_reply(Chat &chat, const bitnet_cli::GenerationResult &reply) {
    bitnet_token end = reply.end_token;
    if (end == BITNET_TOKEN_NULL) end = bitnet_vocab_eot(chat.model);
    if (end == BITNET_TOKEN_NULL) end = bitnet_vocab_eos(chat.model);
    if (!render(chat, false, &chat.rendered)) return -1;
    if (end == BITNET_TOKEN_NULL) return 0;
    if (!make_room(chat, 1, "the end-of-turn token")) return -1;
    int32_t pos = static_cast<int32_t>(chat.cached.size());
    bitnet_status status = bitnet_cli::decode_prompt(chat.context, chat.batch, {end}, &pos);
    if (status != BITNET_OK) return library_failure(chat, status, "decoding the end of the reply"), -1;
    chat.cached.push_back(end);
    return 1;
}

// --prompt-cache: the KV state in FILE, the conversation and cached token ids in FILE.chat.
// Prints one line with the sizes when it saved.
bool save_prompt_cache(Chat &chat, const std::string &path) {
    const auto start = std::chrono::steady_clock::now();
    bitnet_status status = bitnet_state_seq_save_file(chat.context, 0, path.c_str());
    if (status != BITNET_OK) return library_failure(chat, status, "--prompt-cache: saving the state");
    std::ofstream out(path + ".chat", std::ios::binary);
    out << "bitnet-chat 1\n" << chat.n_keep << ' ' << chat.cached.size() << '\n';
    for (bitnet_token t : chat.cached) out << t << ' ';
    out << '\n' << chat.messages.size() << '\n';
    for (const Message &m : chat.messages) out << m.role << ' ' << m.content.size() << '\n' << m.content << '\n';
    out.close();
    if (!out) {
        chat.error_status = BITNET_ERR_IO;
        chat.error = "--prompt-cache: cannot write '" + path + ".chat'";
        return false;
    }
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::error_code ignored;
    const uintmax_t state_bytes = std::filesystem::file_size(path, ignored);
    const uintmax_t chat_bytes = std::filesystem::file_size(path + ".chat", ignored);
    std::fprintf(stderr, "[chat] prompt cache: saved %zu tokens to %s (state %ju bytes, conversation %ju bytes) in %.1f ms\n",
                 chat.cached.size(), path.c_str(), state_bytes, chat_bytes, ms);
    return true;
}

// false without a cache to resume (chat.error empty) or when it cannot be resumed (chat.error says why).
bool load_prompt_cache(Chat &chat, const std::string &path) {
    std::ifstream in(path + ".chat", std::ios::binary);
    if (!in) return false;
    auto bad = [&](const std::string &why) {
        chat.error_status = BITNET_ERR_INVALID_STATE;
        chat.error = why;
        return false;
    };
    std::string magic;
    int version = 0;
    size_t n_tokens = 0, n_messages = 0;
    in >> magic >> version >> chat.n_keep >> n_tokens;
    if (magic != "bitnet-chat" || version != 1 || n_tokens > (1u << 24) || chat.n_keep < 0 ||
        static_cast<size_t>(chat.n_keep) > n_tokens) {
        return bad(path + ".chat is not a bitnet-chat 1 file");
    }
    chat.cached.resize(n_tokens);
    for (bitnet_token &t : chat.cached) in >> t;
    in >> n_messages;
    for (size_t i = 0; in && i < n_messages; ++i) {
        Message m;
        size_t length = 0;
        in >> m.role >> length;
        in.get();
        if (length > (1u << 28)) return bad(path + ".chat: a message of " + std::to_string(length) + " bytes");
        m.content.resize(length);
        in.read(m.content.data(), static_cast<std::streamsize>(length));
        chat.messages.push_back(std::move(m));
    }
    if (!in) return bad(path + ".chat is cut short");
    bitnet_status status = bitnet_state_seq_load_file(chat.context, 0, path.c_str());
    if (status != BITNET_OK) return library_failure(chat, status, "loading the state");
    if (bitnet_seq_pos_max(chat.context, 0) + 1 != static_cast<int32_t>(chat.cached.size())) {
        return bad("the state holds other tokens than " + path + ".chat lists");
    }
    return render(chat, false, &chat.rendered);
}

int run_chat(int argc, char **argv) {
    bitnet_cli::ModelOptions options;
    bitnet_cli::SamplingOptions sampling;
    bitnet_cli::SpeculativeOptions speculative_options;
    std::string system_prompt, cache_path;
    Chat chat;
    long n_predict = 256;
    for (int i = 1; i < argc; ++i) {
        std::string error;
        if (bitnet_cli::parse_model_option(argc, argv, &i, &options, &error) ||
            bitnet_cli::parse_sampling_option(argc, argv, &i, &sampling, &error) ||
            bitnet_cli::parse_speculative_option(argc, argv, &i, &speculative_options, &error)) {
            if (!error.empty()) {
                std::fprintf(stderr, "bitnet chat: %s\n", error.c_str());
                return 2;
            }
            continue;
        }
        std::string arg = argv[i];
        if (arg == "--system" && i + 1 < argc) system_prompt = argv[++i];
        else if (arg == "--template" && i + 1 < argc) chat.template_name = argv[++i];
        else if (arg == "--prompt-cache" && i + 1 < argc) cache_path = argv[++i];
        else if ((arg == "-n" || arg == "--n-predict") && i + 1 < argc) n_predict = std::strtol(argv[++i], nullptr, 10);
        else if (arg == "--no-context-shift") chat.context_shift = false;
        else {
            std::fprintf(stderr, "%s%s%s%s", kUsage, bitnet_cli::kSamplingOptionsHelp, bitnet_cli::kSpeculativeOptionsHelp,
                         bitnet_cli::kModelOptionsHelp);
            return arg == "-h" || arg == "--help" ? 0 : 2;
        }
    }
    if (n_predict < 0 || n_predict > (1 << 24)) {
        std::fprintf(stderr, "bitnet chat: -n needs an integer in [0, 2^24]\n");
        return 2;
    }
    bitnet_model *model = bitnet_cli::load_model_or_report(options, "chat");
    if (!model) return 1;
    chat.model = model;
    bitnet_context_params params = bitnet_cli::context_params(options);
    bitnet_cli::prepare_target_params(speculative_options, &params);
    bitnet_status status = bitnet_context_new(model, &params, &chat.context);
    if (status == BITNET_OK) status = bitnet_batch_new(static_cast<int32_t>(bitnet_context_n_batch(chat.context)), &chat.batch);
    if (status == BITNET_OK && !(chat.sampler = bitnet_cli::make_sampler(sampling))) status = BITNET_ERR_INTERNAL;
    int exit_code = status == BITNET_OK ? 0 : bitnet_cli::report_failure("chat", status);
    auto speculative = std::make_unique<bitnet_cli::Speculative>();
    if (exit_code == 0 && speculative_options.enabled() &&
        !bitnet_cli::setup_speculative(speculative_options, options, chat.context, 1,
                                       bitnet_sampler_get_seed(chat.sampler), true, speculative.get(), "chat")) {
        exit_code = 1;
    }

    if (exit_code == 0 && !cache_path.empty() && load_prompt_cache(chat, cache_path)) {
        std::fprintf(stderr, "[chat] resumed %zu messages, %zu cached tokens from %s\n", chat.messages.size(),
                     chat.cached.size(), cache_path.c_str());
    } else if (exit_code == 0) {
        if (!chat.error.empty()) {
            std::fprintf(stderr, "[chat] prompt cache: cannot resume from %s (%s); starting a new conversation\n",
                         cache_path.c_str(), chat.error.c_str());
        }
        chat.n_keep = 0;
        chat.messages.clear();
        chat.cached.clear();
        bitnet_memory_clear(chat.context);
        if (!system_prompt.empty()) {
            chat.messages.push_back({"system", system_prompt});
            std::string text;
            if (!render(chat, false, &text) || extend_cache(chat, text, "the system prompt") < 0) exit_code = report(chat);
            chat.n_keep = static_cast<int32_t>(chat.cached.size());
        }
    }

    std::string line;
    for (int turn = 1; exit_code == 0 && std::getline(std::cin, line); ++turn) {
        if (line.empty()) break;
        chat.messages.push_back({"user", line});
        std::string prompt;
        const size_t reused = chat.cached.size();
        // Room for the message, the reply and the end-of-turn token that closes it.
        const std::string what = "the message and its reply (-n " + std::to_string(n_predict) + ")";
        int32_t processed =
            render(chat, true, &prompt) ? extend_cache(chat, prompt, what.c_str(), static_cast<size_t>(n_predict) + 1) : -1;
        if (processed < 0) {
            exit_code = report(chat);
            break;
        }
        int32_t pos = static_cast<int32_t>(chat.cached.size());
        bitnet_cli::GenerationResult reply;
        if (speculative->helper) {
            // The helper verifies the prompt's last token together with the first drafts.
            bitnet_seq_rm(chat.context, 0, pos - 1, -1);
            reply = bitnet_cli::generate_speculative(chat.context, speculative->helper, chat.sampler, chat.cached, &pos,
                                                     static_cast<int32_t>(n_predict), {}, false);
        } else {
            reply = bitnet_cli::generate(chat.context, chat.batch, chat.sampler, &pos, static_cast<int32_t>(n_predict),
                                         {}, false);
        }
        std::printf("\n");
        std::fflush(stdout);
        if (reply.status != BITNET_OK) {
            exit_code = bitnet_cli::report_failure("chat", reply.status);
            break;
        }
        chat.cached.insert(chat.cached.end(), reply.tokens.begin(), reply.tokens.end());
        chat.messages.push_back({"assistant", reply.text});
        const int32_t closing = close_reply(chat, reply);
        std::fprintf(stderr,
                     "[chat] turn %d: reused %zu cached tokens, processed %d new tokens, generated %zu tokens "
                     "(%.2f tok/s), closed with %d\n",
                     turn, reused, processed, reply.tokens.size(),
                     reply.seconds > 0 ? reply.tokens.size() / reply.seconds : 0.0, closing);
        if (speculative->helper) std::fprintf(stderr, "[chat] %s\n", bitnet_cli::describe_acceptance(speculative->helper).c_str());
        if (closing < 0 || (!cache_path.empty() && !save_prompt_cache(chat, cache_path))) exit_code = report(chat);
    }
    speculative.reset();  // before the context it refers to
    bitnet_sampler_free(chat.sampler);
    bitnet_batch_free(chat.batch);
    bitnet_context_free(chat.context);
    bitnet_model_free(model);
    return exit_code;
}

bitnet_cli::CommandRegistration registration("chat", "interactive multi-turn chat in the model's template", run_chat);

}  // namespace
