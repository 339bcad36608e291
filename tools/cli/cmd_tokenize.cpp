// bitnet tokenize: show how a model's tokenizer splits a text.
//
//   bitnet tokenize -m MODEL [--ids-only] [--no-special] [--parse-special] [--stdin | [--] TEXT]
//
// Prints one token per line as "id<TAB>'piece'", or with --ids-only all ids on one line separated
// by spaces. BOS (and EOS) are added as the model asks unless --no-special. --parse-special turns
// special-token text such as "<|eot_id|>" into those tokens. --stdin reads the text, byte for
// byte, from standard input; "--" ends the options so a TEXT may begin with '-'.
#include <climits>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bitnet.h"
#include "command.h"

namespace {

int usage() {
    std::fprintf(stderr,
                 "usage: bitnet tokenize -m MODEL [--ids-only] [--no-special] [--parse-special] [--stdin | [--] TEXT]\n"
                 "  -m, --model PATH   GGUF file (only its vocabulary is loaded)\n"
                 "  --ids-only         print the ids on one line, separated by spaces\n"
                 "  --no-special       do not add BOS/EOS\n"
                 "  --parse-special    recognise special-token text such as <|eot_id|>\n"
                 "  --stdin            read the text from standard input, byte for byte\n");
    return 2;
}

bool read_stdin(std::string &text) {
    char buffer[1 << 16];
    size_t got;
    while ((got = std::fread(buffer, 1, sizeof buffer, stdin)) > 0) text.append(buffer, got);
    return !std::ferror(stdin);
}

// Length of the well-formed UTF-8 sequence at `text` (1-4), or 0 when the byte starts none.
size_t valid_sequence_length(const unsigned char *text, size_t remaining) {
    unsigned char lead = text[0];
    size_t length = lead < 0x80 ? 1 : lead < 0xC2 ? 0 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : lead < 0xF5 ? 4 : 0;
    if (length == 1) return 1;
    if (length == 0 || length > remaining) return 0;
    unsigned char low = lead == 0xE0 ? 0xA0 : lead == 0xF0 ? 0x90 : 0x80;
    unsigned char high = lead == 0xED ? 0x9F : lead == 0xF4 ? 0x8F : 0xBF;
    if (text[1] < low || text[1] > high) return 0;
    for (size_t i = 2; i < length; ++i) {
        if ((text[i] & 0xC0) != 0x80) return 0;
    }
    return length;
}

// A piece as readable text: well-formed UTF-8 as is; control characters, quotes and bytes that
// are no complete character (a token may hold part of one) escaped.
std::string escape(const std::string &piece) {
    std::string out;
    const auto *bytes = reinterpret_cast<const unsigned char *>(piece.data());
    for (size_t pos = 0; pos < piece.size();) {
        unsigned char byte = bytes[pos];
        size_t length = valid_sequence_length(bytes + pos, piece.size() - pos);
        if (length > 1) {
            out.append(piece, pos, length);
            pos += length;
            continue;
        }
        ++pos;
        switch (byte) {
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\\': out += "\\\\"; break;
        case '\'': out += "\\'"; break;
        default:
            if (length == 0 || byte < 0x20 || byte == 0x7F) {
                char hex[8];
                std::snprintf(hex, sizeof hex, "\\x%02X", byte);
                out += hex;
            } else {
                out += static_cast<char>(byte);
            }
        }
    }
    return out;
}

std::string piece_of(const bitnet_model *model, bitnet_token token) {
    std::string piece(16, '\0');
    int32_t count = bitnet_token_to_piece(model, token, piece.data(), static_cast<int32_t>(piece.size()), true);
    if (count < 0 && count != BITNET_COUNT_ERROR) {
        piece.resize(static_cast<size_t>(-count));
        count = bitnet_token_to_piece(model, token, piece.data(), static_cast<int32_t>(piece.size()), true);
    }
    piece.resize(count > 0 ? static_cast<size_t>(count) : 0);
    return piece;
}

int run_tokenize(int argc, char **argv) {
    const char *model_path = nullptr;
    const char *text_arg = nullptr;
    bool ids_only = false, add_special = true, parse_special = false, from_stdin = false, options_done = false;
    for (int i = 1; i < argc; ++i) {
        const char *arg = argv[i];
        if (!options_done && (!std::strcmp(arg, "-m") || !std::strcmp(arg, "--model"))) {
            if (++i >= argc) return usage();
            model_path = argv[i];
        } else if (!options_done && !std::strcmp(arg, "--ids-only")) {
            ids_only = true;
        } else if (!options_done && !std::strcmp(arg, "--no-special")) {
            add_special = false;
        } else if (!options_done && !std::strcmp(arg, "--parse-special")) {
            parse_special = true;
        } else if (!options_done && !std::strcmp(arg, "--stdin")) {
            from_stdin = true;
        } else if (!options_done && !std::strcmp(arg, "--")) {
            options_done = true;
        } else if (!options_done && (!std::strcmp(arg, "-h") || !std::strcmp(arg, "--help"))) {
            usage();
            return 0;
        } else if (!options_done && arg[0] == '-' && arg[1] != '\0') {
            std::fprintf(stderr, "bitnet tokenize: unknown option '%s' (use -- before a text that starts with '-')\n", arg);
            return usage();
        } else if (text_arg) {
            std::fprintf(stderr, "bitnet tokenize: give the text as one argument (quote it)\n");
            return usage();
        } else {
            text_arg = arg;
        }
    }
    if (!model_path || from_stdin == (text_arg != nullptr)) return usage();

    std::string text;
    if (from_stdin) {
        if (!read_stdin(text)) {
            std::fprintf(stderr, "bitnet tokenize: cannot read standard input\n");
            return 1;
        }
    } else {
        text = text_arg;
    }

    bitnet_model_params params = bitnet_model_default_params();
    params.vocab_only = true;
    bitnet_model *model = nullptr;
    bitnet_status status = bitnet_model_load_file(model_path, &params, &model);
    if (status != BITNET_OK) return bitnet_cli::report_failure("tokenize", status);

    if (text.size() > static_cast<size_t>(INT32_MAX)) {
        std::fprintf(stderr, "bitnet tokenize: the text is larger than 2 GiB\n");
        bitnet_model_free(model);
        return 1;
    }
    std::vector<bitnet_token> tokens(text.size() + 2);
    int32_t count = bitnet_tokenize(model, text.data(), static_cast<int32_t>(text.size()), tokens.data(),
                                    static_cast<int32_t>(tokens.size()), add_special, parse_special);
    if (count < 0 && count != BITNET_COUNT_ERROR) {
        tokens.resize(static_cast<size_t>(-count));
        count = bitnet_tokenize(model, text.data(), static_cast<int32_t>(text.size()), tokens.data(),
                                static_cast<int32_t>(tokens.size()), add_special, parse_special);
    }
    if (count < 0) {
        std::fprintf(stderr, "bitnet tokenize: %s\n", bitnet_last_error());
        bitnet_model_free(model);
        return 1;
    }
    tokens.resize(static_cast<size_t>(count));

    if (ids_only) {
        for (size_t i = 0; i < tokens.size(); ++i) std::printf(i ? " %d" : "%d", tokens[i]);
        std::printf("\n");
    } else {
        for (bitnet_token token : tokens) std::printf("%d\t'%s'\n", token, escape(piece_of(model, token)).c_str());
    }
    bitnet_model_free(model);
    return 0;
}

bitnet_cli::CommandRegistration registration("tokenize", "show the tokens of a text", run_tokenize);

}  // namespace
