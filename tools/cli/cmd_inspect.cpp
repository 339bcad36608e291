// bitnet inspect [--json] MODEL: metadata and tensor table of any well-formed GGUF file, and
// whether the engine can run it (and, if not, which tensor or key stops it and why). The file is
// opened with metadata_only, so types and architectures the engine cannot run are still shown
// (with their ggml type id); bitnet_model_runnable() gives the verdict. Written against bitnet.h
// alone, like any program that embeds the library.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "bitnet.h"
#include "command.h"
#include "json_writer.h"

namespace {

// Arrays show their first elements only: an 8-element preview keeps a 128k-entry vocabulary on one line.
constexpr int64_t kArrayElementsShown = 8;

std::string metadata_value(const bitnet_model *model, int64_t index) {
    int64_t length = bitnet_model_meta_value_by_index(model, index, kArrayElementsShown, nullptr, 0);
    if (length < 0) return "";
    std::string text(static_cast<size_t>(length) + 1, '\0');
    bitnet_model_meta_value_by_index(model, index, kArrayElementsShown, text.data(), text.size());
    text.resize(static_cast<size_t>(length));
    return text;
}

// The engine's verdict on the file: "" when it can run it, else why not.
std::string runnable_problem(const bitnet_model *model) {
    if (bitnet_model_runnable(model) == BITNET_OK) return "";
    // The reason without the "bitnet_model_runnable: " every API message starts with.
    const std::string message = bitnet_last_error();
    const std::string prefix = "bitnet_model_runnable: ";
    return message.rfind(prefix, 0) == 0 ? message.substr(prefix.size()) : message;
}

bitnet_tensor_info tensor_info(const bitnet_model *model, int64_t index) {
    bitnet_tensor_info info;
    std::memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    bitnet_model_tensor_info(model, index, &info);  // index < bitnet_model_n_tensors(): cannot fail
    return info;
}

std::string shape_json(const bitnet_tensor_info &tensor) {
    std::string out = "[";
    for (int32_t i = 0; i < tensor.n_dims; ++i) out += (i ? ", " : "") + std::to_string(tensor.dims[i]);
    return out + "]";
}

void print_json(const bitnet_model *model, double load_ms, const std::string &problem) {
    using bitnet_cli::json_string;
    std::printf("{\n  \"architecture\": %s,\n  \"name\": %s,\n", json_string(bitnet_model_architecture(model)).c_str(),
                json_string(bitnet_model_name(model)).c_str());
    std::printf("  \"file_size\": %llu,\n  \"n_params\": %llu,\n  \"n_tensors\": %lld,\n",
                static_cast<unsigned long long>(bitnet_model_file_size(model)),
                static_cast<unsigned long long>(bitnet_model_n_params(model)),
                static_cast<long long>(bitnet_model_n_tensors(model)));
    std::printf("  \"n_vocab\": %d,\n  \"n_layer\": %d,\n  \"n_embd\": %d,\n  \"n_head\": %d,\n  \"n_head_kv\": %d,\n"
                "  \"n_ff\": %d,\n  \"n_ctx_train\": %d,\n  \"rope_freq_base\": %g,\n  \"load_ms\": %.3f,\n",
                bitnet_model_n_vocab(model), bitnet_model_n_layer(model), bitnet_model_n_embd(model),
                bitnet_model_n_head(model), bitnet_model_n_head_kv(model), bitnet_model_n_ff(model),
                bitnet_model_n_ctx_train(model), bitnet_model_rope_freq_base(model), load_ms);
    std::printf("  \"runnable\": %s,\n", problem.empty() ? "true" : "false");
    if (!problem.empty()) std::printf("  \"not_runnable_because\": %s,\n", json_string(problem.c_str()).c_str());
    std::printf("  \"metadata\": {");
    const int64_t n_keys = bitnet_model_meta_count(model);
    for (int64_t i = 0; i < n_keys; ++i) {
        std::printf("%s\n    %s: %s", i ? "," : "", json_string(bitnet_model_meta_key(model, i)).c_str(),
                    json_string(metadata_value(model, i)).c_str());
    }
    std::printf("\n  },\n  \"tensors\": [");
    const int64_t n_tensors = bitnet_model_n_tensors(model);
    for (int64_t i = 0; i < n_tensors; ++i) {
        const bitnet_tensor_info t = tensor_info(model, i);
        std::printf("%s\n    {\"name\": %s, \"type\": \"%s\", \"type_id\": %u, \"shape\": %s, \"offset\": %llu, "
                    "\"bytes\": %llu",
                    i ? "," : "", json_string(t.name).c_str(), t.type_name, t.file_type_id, shape_json(t).c_str(),
                    static_cast<unsigned long long>(t.data_offset), static_cast<unsigned long long>(t.n_bytes));
        if (t.unrunnable) std::printf(", \"unrunnable\": %s", json_string(t.unrunnable).c_str());
        std::printf("}");
    }
    std::printf("\n  ]\n}\n");
}

void print_text(const bitnet_model *model, double load_ms, const std::string &problem) {
    std::printf("architecture: %s\nname: %s\nfile size: %llu bytes\nparameters: %llu\ntensors: %lld\n",
                bitnet_model_architecture(model), bitnet_model_name(model),
                static_cast<unsigned long long>(bitnet_model_file_size(model)),
                static_cast<unsigned long long>(bitnet_model_n_params(model)),
                static_cast<long long>(bitnet_model_n_tensors(model)));
    std::printf("layers %d, n_embd %d, heads %d/%d, n_ff %d, vocab %d, n_ctx_train %d, rope base %g\n",
                bitnet_model_n_layer(model), bitnet_model_n_embd(model), bitnet_model_n_head(model),
                bitnet_model_n_head_kv(model), bitnet_model_n_ff(model), bitnet_model_n_vocab(model),
                bitnet_model_n_ctx_train(model), bitnet_model_rope_freq_base(model));
    const int64_t n_keys = bitnet_model_meta_count(model);
    std::printf("load time: %.3f ms\n\nmetadata (%lld keys):\n", load_ms, static_cast<long long>(n_keys));
    for (int64_t i = 0; i < n_keys; ++i) {
        std::printf("  %-45s %s\n", bitnet_model_meta_key(model, i), metadata_value(model, i).c_str());
    }
    const int64_t n_tensors = bitnet_model_n_tensors(model);
    std::printf("\ntensors (%lld):\n", static_cast<long long>(n_tensors));
    for (int64_t i = 0; i < n_tensors; ++i) {
        const bitnet_tensor_info t = tensor_info(model, i);
        // A type the engine cannot run shows its raw id: "iq2_xxs(16)!", "unknown(99)!".
        std::string type = t.type_name;
        if (t.unrunnable) type += "(" + std::to_string(t.file_type_id) + ")!";
        std::printf("  %-36s %-12s %-16s %12llu bytes\n", t.name, type.c_str(), shape_json(t).c_str(),
                    static_cast<unsigned long long>(t.n_bytes));
    }
    if (problem.empty()) {
        std::printf("\nrunnable: yes\n");
    } else {
        std::printf("\nrunnable: no: %s\n", problem.c_str());
    }
}

int run_inspect(int argc, char **argv) {
    bool json = false;
    bitnet_model_params params = bitnet_model_default_params();
    const char *path = nullptr;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--json")) {
            json = true;
        } else if (!std::strcmp(argv[i], "--vocab-only")) {
            // Accepted for older scripts: inspect never reads weights anyway (metadata_only).
        } else if (argv[i][0] == '-' && std::strcmp(argv[i], "-")) {
            std::fprintf(stderr, "bitnet inspect: unknown option '%s'\n", argv[i]);
            return 2;
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        std::fprintf(stderr, "usage: bitnet inspect [--json] MODEL.gguf\n");
        return 2;
    }
    params.metadata_only = true;
    auto start = std::chrono::steady_clock::now();
    bitnet_model *model = nullptr;
    bitnet_status status = bitnet_model_load_file(path, &params, &model);
    double load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (status != BITNET_OK) return bitnet_cli::report_failure("inspect", status);
    const std::string problem = runnable_problem(model);
    if (json) {
        print_json(model, load_ms, problem);
    } else {
        print_text(model, load_ms, problem);
    }
    bitnet_model_free(model);
    return 0;
}

bitnet_cli::CommandRegistration registration("inspect", "show a model's metadata and tensors", run_inspect);

}  // namespace
