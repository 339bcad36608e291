// tokenize-bench: vocabulary load time and tokenization / detokenization throughput.
//
//   tokenize-bench [--prose FILE] [--code FILE] [--seconds S] VOCAB.gguf [VOCAB.gguf ...]
//
// English prose defaults to the license texts in /usr/share/common-licenses and source code to
// this project's own lib/ sources. Throughput is input bytes per second (MB = 10^6 bytes), best
// of the timed rounds, one thread; "lines" tokenizes the prose one line per call.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "bitnet.h"
#include "gguf/gguf.h"
#include "tokenizer/bpe.h"
#include "tokenizer/vocabulary.h"
#include "util/mapped_file.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::string read_text(const std::filesystem::path &path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Every regular file under `folder` whose extension is listed (all files when none is), sorted.
std::string read_folder(const std::filesystem::path &folder, const std::vector<std::string> &extensions) {
    std::vector<std::filesystem::path> files;
    std::error_code error;
    for (auto it = std::filesystem::recursive_directory_iterator(folder, error);
         !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
        if (!it->is_regular_file()) continue;
        std::string extension = it->path().extension().string();
        if (extensions.empty() || std::find(extensions.begin(), extensions.end(), extension) != extensions.end()) {
            files.push_back(it->path());
        }
    }
    std::sort(files.begin(), files.end());
    std::string text;
    for (const auto &file : files) text += read_text(file);
    return text;
}

// Best throughput of repeated runs of `body` over `bytes` input bytes, for at least `seconds`.
template <class Body>
double best_megabytes_per_second(size_t bytes, double seconds, Body &&body) {
    double best = 0.0;
    auto start = Clock::now();
    int rounds = 0;
    while (rounds < 3 || seconds_since(start) < seconds) {
        auto round_start = Clock::now();
        body();
        best = std::max(best, static_cast<double>(bytes) / seconds_since(round_start) / 1e6);
        ++rounds;
    }
    return best;
}

void bench_corpus(const bitnet_model *model, const char *label, const std::string &text, double seconds) {
    if (text.empty()) {
        std::printf("  %-6s (no text)\n", label);
        return;
    }
    std::vector<bitnet_token> tokens(text.size() + 16);
    int32_t count = 0;
    double tokenize = best_megabytes_per_second(text.size(), seconds, [&] {
        count = bitnet_tokenize(model, text.data(), static_cast<int32_t>(text.size()), tokens.data(),
                                static_cast<int32_t>(tokens.size()), false, false);
    });
    if (count < 0) {
        std::printf("  %-6s tokenize failed: %s\n", label, bitnet_last_error());
        return;
    }
    std::string back(text.size() * 2 + 16, '\0');
    int32_t written = 0;
    double detokenize = best_megabytes_per_second(text.size(), seconds, [&] {
        written = bitnet_detokenize(model, tokens.data(), count, back.data(), static_cast<int32_t>(back.size()), false, false);
    });
    bool round_trip = written == static_cast<int32_t>(text.size()) && std::memcmp(back.data(), text.data(), text.size()) == 0;
    std::printf("  %-6s %8.1f KB  %7d tokens (%.2f bytes/token)  tokenize %7.2f MB/s  detokenize %7.1f MB/s  round trip %s\n",
                label, text.size() / 1e3, count, static_cast<double>(text.size()) / count, tokenize, detokenize,
                round_trip ? "ok" : "DIFFERS");
}

// Prompt-sized inputs: every line of the prose as its own call, so per-call costs show.
void bench_lines(const bitnet_model *model, const std::string &text, double seconds) {
    std::vector<std::string_view> lines;
    for (size_t start = 0; start < text.size();) {
        size_t end = text.find('\n', start);
        end = end == std::string::npos ? text.size() : end + 1;
        lines.push_back(std::string_view(text).substr(start, end - start));
        start = end;
    }
    std::vector<bitnet_token> tokens(4096);
    double tokenize = best_megabytes_per_second(text.size(), seconds, [&] {
        for (std::string_view line : lines) {
            bitnet_tokenize(model, line.data(), static_cast<int32_t>(line.size()), tokens.data(),
                            static_cast<int32_t>(tokens.size()), false, false);
        }
    });
    std::printf("  %-6s %zu calls of %.0f bytes on average                         tokenize %7.2f MB/s\n", "lines",
                lines.size(), static_cast<double>(text.size()) / std::max<size_t>(lines.size(), 1), tokenize);
}

void bench_load(const std::string &path) {
    bitnet::MappedFile mapping = bitnet::MappedFile::open(path);
    bitnet::gguf::File file = bitnet::gguf::File::parse(mapping.data(), mapping.size());

    double best_load = 1e9;
    for (int i = 0; i < 5; ++i) {
        auto start = Clock::now();
        std::unique_ptr<bitnet::Vocabulary> vocab = bitnet::Vocabulary::load(file);
        best_load = std::min(best_load, seconds_since(start));
    }
    std::printf("  Vocabulary::load (parsed file): %.1f ms\n", best_load * 1e3);

    if (!file.find("tokenizer.ggml.merges")) return;
    std::unique_ptr<bitnet::Vocabulary> vocab = bitnet::Vocabulary::load(file);
    bitnet::TextToToken token_of_text;
    token_of_text.reserve(static_cast<size_t>(vocab->n_tokens()));
    for (bitnet_token id = 0; id < vocab->n_tokens(); ++id) token_of_text.insert(vocab->text(id), id);
    double best_read = 1e9, best_build = 1e9;
    size_t merge_count = 0;
    for (int i = 0; i < 5; ++i) {
        auto start = Clock::now();
        std::vector<std::string_view> merges = file.get_string_array("tokenizer.ggml.merges").value();
        best_read = std::min(best_read, seconds_since(start));
        start = Clock::now();
        bitnet::PairToMerge table;
        bitnet::build_bpe_merges(merges, token_of_text, table);
        best_build = std::min(best_build, seconds_since(start));
        merge_count = merges.size();
    }
    std::printf("  %zu merges: read %.1f ms + ranked table %.1f ms\n", merge_count, best_read * 1e3, best_build * 1e3);
}

int usage() {
    std::fprintf(stderr, "usage: tokenize-bench [--prose FILE] [--code FILE] [--seconds S] VOCAB.gguf [VOCAB.gguf ...]\n");
    return 2;
}

}  // namespace

int main(int argc, char **argv) {
    std::string prose, code;
    double seconds = 2.0;
    std::vector<std::string> vocabularies;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if ((arg == "--prose" || arg == "--code" || arg == "--seconds") && i + 1 < argc) {
            std::string value = argv[++i];
            if (arg == "--prose") prose = read_text(value);
            if (arg == "--code") code = read_text(value);
            if (arg == "--seconds") seconds = std::atof(value.c_str());
        } else if (arg.rfind("--", 0) == 0) {
            return usage();
        } else {
            vocabularies.push_back(arg);
        }
    }
    if (vocabularies.empty()) return usage();
    if (prose.empty()) prose = read_folder("/usr/share/common-licenses", {});
    if (code.empty()) code = read_folder(std::filesystem::path(__FILE__).parent_path().parent_path() / "lib", {".cpp", ".h"});

    for (const std::string &path : vocabularies) {
        bitnet_model_params params = bitnet_model_default_params();
        params.vocab_only = true;
        bitnet_model *model = nullptr;
        auto start = Clock::now();
        if (bitnet_model_load_file(path.c_str(), &params, &model) != BITNET_OK) {
            std::fprintf(stderr, "tokenize-bench: %s: %s\n", path.c_str(), bitnet_last_error());
            return 1;
        }
        std::printf("%s: %d tokens, bitnet_model_load_file (vocab_only) %.1f ms\n", path.c_str(),
                    bitnet_vocab_n_tokens(model), seconds_since(start) * 1e3);
        bench_load(path);
        bench_corpus(model, "prose", prose, seconds);
        bench_corpus(model, "code", code, seconds);
        bench_lines(model, prose, seconds);
        bitnet_model_free(model);
    }
    return 0;
}
