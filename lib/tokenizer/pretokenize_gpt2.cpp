// The GPT-2 pre-tokenizer. At each position the first alternative of the regex that matches wins:
//   's|'t|'re|'ve|'m|'ll|'d | ' '?\p{L}+ | ' '?\p{N}+ | ' '?[^\s\p{L}\p{N}]+ | \s+(?!\S) | \s+
#include "tokenizer/pretokenize.h"
#include "tokenizer/pretokenize_classes.h"

namespace bitnet {

using namespace pretokenize;

void split_words_gpt2(const CodeUnits &units, std::vector<uint32_t> &word_ends) {
    const size_t size = units.size();
    const uint32_t *code_points = units.code_points.data();
    const uint8_t *flags = units.flags.data();  // flags[size] is the sentinel

    for (size_t pos = 0; pos < size;) {
        // A single space joins the word that follows it.
        const size_t start = code_points[pos] == ' ' && !is_space(flags[pos + 1]) ? pos + 1 : pos;
        const uint8_t start_flag = flags[start];
        size_t end;

        if (size_t length = contraction_length(units, pos, /*fold=*/false)) {
            end = pos + length;
        } else if (is_letter(start_flag)) {
            end = start + 1;
            while (is_letter(flags[end])) ++end;
        } else if (is_number(start_flag)) {
            end = start + 1;
            while (is_number(flags[end])) ++end;
        } else if (is_other(start_flag)) {
            end = start + 1;
            while (is_other(flags[end])) ++end;
        } else {
            // Whitespace: \s+(?!\S) leaves the run's last space to lead the next word.
            size_t run_end = pos;
            while (is_space(flags[run_end])) ++run_end;
            end = run_end - pos > 1 && run_end < size ? run_end - 1 : run_end;
        }
        word_ends.push_back(units.offsets[end]);
        pos = end;
    }
}

}  // namespace bitnet
