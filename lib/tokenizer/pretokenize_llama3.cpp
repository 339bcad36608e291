// The Llama 3 pre-tokenizer. At each position the first alternative of the regex that matches
// wins, with the regex's greedy quantifiers:
//   (?i:'s|'t|'re|'ve|'m|'ll|'d) | [^\r\n\p{L}\p{N}]?\p{L}+ | \p{N}{1,3} | ' '?[^\s\p{L}\p{N}]+[\r\n]*
//   | \s*[\r\n]+ | \s+(?!\S) | \s+
#include "tokenizer/pretokenize.h"
#include "tokenizer/pretokenize_classes.h"

namespace bitnet {

using namespace pretokenize;

void split_words_llama3(const CodeUnits &units, std::vector<uint32_t> &word_ends) {
    const size_t size = units.size();
    const uint32_t *code_points = units.code_points.data();
    const uint8_t *flags = units.flags.data();  // flags[size] is the sentinel

    for (size_t pos = 0; pos < size;) {
        const uint32_t code_point = code_points[pos];
        const uint8_t flag = flags[pos];
        size_t end;

        if (size_t length = contraction_length(units, pos, /*fold=*/true)) {
            end = pos + length;
        } else if (is_letter(flag) || (!is_newline(code_point) && !is_number(flag) && is_letter(flags[pos + 1]))) {
            // [^\r\n\p{L}\p{N}]?\p{L}+ : an optional non-letter, non-digit lead, then letters.
            end = pos + 1;
            while (is_letter(flags[end])) ++end;
        } else if (is_number(flag)) {
            end = pos + 1;
            while (end < pos + 3 && is_number(flags[end])) ++end;
        } else if (is_other(flag) || (code_point == ' ' && is_other(flags[pos + 1]))) {
            // ' '?[^\s\p{L}\p{N}]+[\r\n]*
            end = pos + 1;
            while (is_other(flags[end])) ++end;
            while (end < size && is_newline(code_points[end])) ++end;
        } else {
            // Whitespace. \s*[\r\n]+ takes the run up to its last line break; otherwise
            // \s+(?!\S) leaves the run's last space to lead the next word; otherwise \s+.
            size_t run_end = pos;
            size_t after_last_newline = 0;
            while (is_space(flags[run_end])) {
                if (is_newline(code_points[run_end])) after_last_newline = run_end + 1;
                ++run_end;
            }
            if (after_last_newline) {
                end = after_last_newline;
            } else if (run_end - pos > 1 && run_end < size) {
                end = run_end - 1;
            } else {
                end = run_end;
            }
        }
        word_ends.push_back(units.offsets[end]);
        pos = end;
    }
}

}  // namespace bitnet
