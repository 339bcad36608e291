// bitnet inspect [--json] [--vocab-only] MODEL: metadata and tensor table of a GGUF model.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "bitnet.h"
#include "command.h"
#include "json_writer.h"
#include "model/model.h"

namespace {

std::string shape_json(const bitnet::gguf::TensorInfo &tensor) {
    std::string out = "[";
    for (uint32_t i = 0; i < tensor.n_dims; ++i) out += (i ? ", " : "") + std::to_string(tensor.dims[i]);
    return out + "]";
}

void print_json(const bitnet_model *model, double load_ms) {
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
    std::printf("  \"metadata\": {");
    const auto &metadata = model->file.metadata();
    for (size_t i = 0; i < metadata.size(); ++i) {
        std::string value = model->file.render(metadata[i].value, 8);
        std::printf("%s\n    %s: %s", i ? "," : "", json_string(metadata[i].key).c_str(), json_string(value).c_str());
    }
    std::printf("\n  },\n  \"tensors\": [");
    const auto &tensors = model->file.tensors();
    for (size_t i = 0; i < tensors.size(); ++i) {
        const auto &t = tensors[i];
        std::printf("%s\n    {\"name\": %s, \"type\": \"%s\", \"shape\": %s, \"offset\": %llu, \"bytes\": %llu}",
                    i ? "," : "", json_string(t.name).c_str(), bitnet::tensor_type_name(t.type), shape_json(t).c_str(),
                    static_cast<unsigned long long>(model->file.data_offset() + t.offset),
                    static_cast<unsigned long long>(t.n_bytes));
    }
    std::printf("\n  ]\n}\n");
}

void print_text(const bitnet_model *model, double load_ms) {
    std::printf("architecture: %s\nname: %s\nfile size: %llu bytes\nparameters: %llu\ntensors: %lld\n",
                bitnet_model_architecture(model), bitnet_model_name(model),
                static_cast<unsigned long long>(bitnet_model_file_size(model)),
                static_cast<unsigned long long>(bitnet_model_n_params(model)),
                static_cast<long long>(bitnet_model_n_tensors(model)));
    std::printf("layers %d, n_embd %d, heads %d/%d, n_ff %d, vocab %d, n_ctx_train %d, rope base %g\n",
                bitnet_model_n_layer(model), bitnet_model_n_embd(model), bitnet_model_n_head(model),
                bitnet_model_n_head_kv(model), bitnet_model_n_ff(model), bitnet_model_n_vocab(model),
                bitnet_model_n_ctx_train(model), bitnet_model_rope_freq_base(model));
    std::printf("load time: %.3f ms\n\nmetadata (%zu keys):\n", load_ms, model->file.metadata().size());
    for (const auto &entry : model->file.metadata()) {
        std::printf("  %-45s %s\n", entry.key.c_str(), model->file.render(entry.value, 8).c_str());
    }
    std::printf("\ntensors (%zu):\n", model->file.tensors().size());
    for (const auto &t : model->file.tensors()) {
        std::printf("  %-36s %-6s %-16s %12llu bytes\n", t.name.c_str(), bitnet::tensor_type_name(t.type),
                    shape_json(t).c_str(), static_cast<unsigned long long>(t.n_bytes));
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
            params.vocab_only = true;
        } else if (argv[i][0] == '-' && std::strcmp(argv[i], "-")) {
            std::fprintf(stderr, "bitnet inspect: unknown option '%s'\n", argv[i]);
            return 2;
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        std::fprintf(stderr, "usage: bitnet inspect [--json] [--vocab-only] MODEL.gguf\n");
        return 2;
    }
    auto start = std::chrono::steady_clock::now();
    bitnet_model *model = nullptr;
    bitnet_status status = bitnet_model_load_file(path, &params, &model);
    double load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (status != BITNET_OK) return bitnet_cli::report_failure("inspect", status);
    if (json) {
        print_json(model, load_ms);
    } else {
        print_text(model, load_ms);
    }
    bitnet_model_free(model);
    return 0;
}

bitnet_cli::CommandRegistration registration("inspect", "show a model's metadata and tensors", run_inspect);

}  // namespace
