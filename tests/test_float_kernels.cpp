// Tests of the float kernels of the CPU kernel table (kernels/kernels.h): gemm_float (float-weight
// rows: the lm_head), attention_scores, attention_values, rms_norm and gated_activation.
//
// 1. The scalar table is the specification; it is checked here against expectations computed in
//    double precision. Weights are decoded by a decoder written in this file from
//    docs/formats.md §1.6, one element at a time from the block's bytes, and not by
//    tensor/quantize.h: the scalar kernel decodes with that one, so sharing it would hide its bugs.
// 2. Every variant this CPU can run (available_cpu_kernels, the scalar one included) is compared
//    with the scalar table on the same random inputs. Float sums may run in any order, so a dot is
//    compared within 1e-6 of the sum of the magnitudes of its terms (the bound kernels.h states),
//    other values within 1e-6 relative, and relu^2 exactly.
// 3. Empty calls (no rows, no tokens, no cells, no queries) write nothing.
//
// Decoding is also checked on its own, exactly, with one-hot activations over each encoding's full
// range. Dots whose terms span many orders of magnitude are checked separately, against the float
// summation bound (summation_bound): there even the scalar kernel's in-order float sum of 1000+
// terms is off by more than 1e-6 of the magnitudes.
//
// Every output buffer is surrounded by sentinels, and every byte a kernel must not read (gaps
// between rows, KV cells not in the cell list, padding after activations and queries) holds NaN or
// random bytes, so that writing or reading out of bounds shows up as a failure. Buffers end exactly
// where the data ends, so the sanitizer build catches reads past the end.
//
// The largest error seen per variant and kernel (relative to the tolerance's scale) is printed at
// the end of the run ("[ max err  ]" lines), to show the headroom the bounds leave.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "kernels/kernels.h"
#include "util/half.h"  // float_to_half only, to build inputs; every decode below is written here

using bitnet::KernelTable;
using bitnet::TensorType;

namespace {

// ------------------------------------------------------------------------------------------------
// Variants
// ------------------------------------------------------------------------------------------------

std::vector<std::string> variant_names() {
    const KernelTable *tables[8] = {};
    const size_t count = bitnet::available_cpu_kernels(tables, 8);
    std::vector<std::string> names;
    for (size_t i = 0; i < count && i < 8; ++i) names.push_back(tables[i]->name);
    return names;
}

const KernelTable &scalar() { return bitnet::scalar_kernels(); }

// ------------------------------------------------------------------------------------------------
// Tolerances and the worst-error report
// ------------------------------------------------------------------------------------------------

// The bound kernels.h states: 1e-6 of the sum of the magnitudes of a dot's terms (for values that
// are not sums, of the value itself).
constexpr double kRelative = 1e-6;
// Added to every bound, so that results whose exact value is a float subnormal or zero (e.g. a row
// of zero block scales, silu of a very negative gate) compare as equal.
constexpr double kTinyAbsolute = 1e-30;
constexpr float kSentinel = -12345.0f;

// The bound for a float sum of n terms of very different magnitudes (see the heavy-tailed gemm
// test): each addition rounds by up to 2^-24 of a partial sum that one large term can hold near
// the full magnitude, and n such roundings add up like a random walk, to about sqrt(n) * 2^-24 of
// the magnitude. Four times that, never below kRelative.
double summation_bound(int64_t n) { return std::max(kRelative, 4.0 * std::sqrt(static_cast<double>(n)) * 0x1p-24); }

std::map<std::string, double> &worst_errors() {
    static std::map<std::string, double> worst;
    return worst;
}

// Errors are recorded relative to their scale, for scales where the relative bound is what
// decides (far above kTinyAbsolute).
void record_error(const std::string &key, double error, double scale) {
    if (!(scale > 1e6 * kTinyAbsolute) || !std::isfinite(error) || !std::isfinite(scale)) return;
    double &worst = worst_errors()[key];
    worst = std::max(worst, error / scale);
}

class WorstErrorReport : public ::testing::Environment {
public:
    void TearDown() override {
        for (const auto &[key, worst] : worst_errors()) std::printf("[ max err  ] %-48s %.3g\n", key.c_str(), worst);
    }
};
[[maybe_unused]] ::testing::Environment *const kWorstErrorReport =
    ::testing::AddGlobalTestEnvironment(new WorstErrorReport);

// |got - want| <= relative * scale + tiny, where scale is the sum of the magnitudes of the terms
// that make up the value (or the value's magnitude, for values that are not sums). NaN fails.
// Callers append where the value came from to a failure (built only then: these run per output).
::testing::AssertionResult within_tolerance(double got, double want, double scale, const std::string &key,
                                            double relative = kRelative) {
    const double error = std::fabs(got - want);
    record_error(key, error, scale);
    if (error <= relative * scale + kTinyAbsolute) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << key << ": got " << got << ", expected " << want << " (error " << error
                                         << ", allowed " << relative * scale + kTinyAbsolute << ", scale " << scale
                                         << ")";
}

uint32_t float_bits(float v) {
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    return bits;
}

// ------------------------------------------------------------------------------------------------
// Weight formats, decoded from formats.md §1.6 in double precision
// ------------------------------------------------------------------------------------------------

struct FloatType {
    TensorType type;
    const char *name;
    int64_t block_elements;
    int64_t block_bytes;
};

constexpr FloatType kFloatTypes[] = {
    {TensorType::F32, "F32", 1, 4},      {TensorType::F16, "F16", 1, 2},      {TensorType::BF16, "BF16", 1, 2},
    {TensorType::Q8_0, "Q8_0", 32, 34}, {TensorType::Q4_0, "Q4_0", 32, 18}, {TensorType::Q6_K, "Q6_K", 256, 210},
};

bool is_plain_float(const FloatType &t) { return t.block_elements == 1; }

uint16_t u16_at(const uint8_t *p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

// IEEE-754 binary16 from its fields: subnormals are mantissa * 2^-24, normals (1024 + mantissa) *
// 2^(exponent - 25). The inputs here never hold exponent 31 (inf/NaN) where a value is expected.
double half_value(uint16_t bits) {
    const int sign = bits >> 15, exponent = (bits >> 10) & 31, mantissa = bits & 1023;
    const double magnitude = exponent == 0 ? std::ldexp(mantissa, -24) : std::ldexp(1024 + mantissa, exponent - 25);
    return sign ? -magnitude : magnitude;
}

// BF16: the f32 whose bits are the bf16 bits followed by 16 zero bits.
double bf16_value(uint16_t bits) {
    const uint32_t wide = static_cast<uint32_t>(bits) << 16;
    float value;
    std::memcpy(&value, &wide, sizeof value);
    return value;
}

double f32_value(const uint8_t *p) {
    const uint32_t bits = static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
                          (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
    float value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

// Element i of a row (formats.md §1.6).
double element(const FloatType &t, const uint8_t *row, int64_t i) {
    const uint8_t *block = row + (i / t.block_elements) * t.block_bytes;
    const int j = static_cast<int>(i % t.block_elements);
    switch (t.type) {
        case TensorType::F32: return f32_value(block);
        case TensorType::F16: return half_value(u16_at(block));
        case TensorType::BF16: return bf16_value(u16_at(block));
        case TensorType::Q8_0:  // d f16 @0, qs int8[32] @2: x[j] = qs[j] * d
            return half_value(u16_at(block)) * static_cast<int8_t>(block[2 + j]);
        case TensorType::Q4_0: {  // d f16 @0, qs u8[16] @2: low nibbles are x[0..15], high nibbles x[16..31]
            const uint8_t q = block[2 + j % 16];
            const int code = j < 16 ? (q & 0x0F) : (q >> 4);
            return half_value(u16_at(block)) * (code - 8);
        }
        case TensorType::Q6_K: {
            // ql u8[128] @0, qh u8[64] @128, scales int8[16] @192, d f16 @208. Half h = j / 128
            // uses ql + 64h, qh + 32h, scales + 8h; within a half, quarter k = 0..3 holds elements
            // 32k + l: low nibble of ql[l] (k=0), of ql[l+32] (k=1), high nibble of ql[l] (k=2), of
            // ql[l+32] (k=3); bits 2k+1:2k of qh[l] on top; scale sc[l/16 + 2k]; code minus 32.
            const int h = j / 128, k = (j % 128) / 32, l = j % 32;
            const uint8_t *ql = block + 64 * h;
            const uint8_t *qh = block + 128 + 32 * h;
            const auto *sc = reinterpret_cast<const int8_t *>(block + 192) + 8 * h;
            const uint8_t low_byte = ql[l + 32 * (k % 2)];
            const int nibble = k < 2 ? (low_byte & 0x0F) : (low_byte >> 4);
            const int top = (qh[l] >> (2 * k)) & 3;
            const int code = (nibble | (top << 4)) - 32;
            return half_value(u16_at(block + 208)) * sc[l / 16 + 2 * k] * code;
        }
        default: return std::numeric_limits<double>::quiet_NaN();
    }
}

std::vector<double> decode_row(const FloatType &t, const uint8_t *row, int64_t n_cols) {
    std::vector<double> values(static_cast<size_t>(n_cols));
    for (int64_t i = 0; i < n_cols; ++i) values[i] = element(t, row, i);
    return values;
}

// ------------------------------------------------------------------------------------------------
// Random inputs
// ------------------------------------------------------------------------------------------------

void store_u16(uint8_t *p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v & 0xff);
    p[1] = static_cast<uint8_t>(v >> 8);
}

// How widely the magnitudes of one row's values spread.
//  kTypical: like real weights. Each row has its own scale (2^-6..2^6); within a row, F32/F16/BF16
//            values are normal and block scales d vary by a factor of 3 at most (random sign),
//            with the odd zero or subnormal d.
//  kFullRange: every encoding across its range: F16 any finite bit pattern (subnormals to 65504),
//            BF16 exponents 2^-20..2^20 and subnormals, F32 2^-6..2^6 per value, d 2^-11..3 per
//            block. A few terms then dominate a dot, and the float sum of n terms is only good to
//            about sqrt(n) * 2^-24 of the magnitudes (summation_bound), not to 1e-6.
enum class Spread { kTypical, kFullRange };

// A block scale d, from a random float, sometimes subnormal or zero.
uint16_t random_block_scale(Spread spread, float row_scale, std::mt19937 &rng) {
    std::uniform_int_distribution<int> pick(0, 255);
    const int kind = pick(rng) % 16;
    if (kind == 0) return static_cast<uint16_t>(pick(rng) | ((pick(rng) & 3) << 8) | ((pick(rng) & 1) << 15));
    if (kind == 1) return 0;
    if (spread == Spread::kFullRange) {
        std::uniform_real_distribution<float> value(-3.0f, 3.0f);
        return bitnet::float_to_half(std::ldexp(value(rng), -(pick(rng) % 12)));
    }
    std::uniform_real_distribution<float> value(1.0f, 3.0f);
    return bitnet::float_to_half((pick(rng) & 1 ? -0.01f : 0.01f) * value(rng) * row_scale);
}

// BF16 by truncation (the test only needs some bf16 value near v).
uint16_t bf16_bits_near(float v) { return static_cast<uint16_t>(float_bits(v) >> 16); }

// Rows of a weight: row r at data + r * row_bytes. The first row starts at an odd address (the
// kernels take unaligned pointers), row_bytes may exceed the row's own bytes (the gap is random
// bytes the kernel must skip), and the buffer ends with the last row's last byte. Quant bytes are
// random (every value); the values and block scales follow `spread`.
struct WeightRows {
    std::vector<uint8_t> storage;
    const uint8_t *data = nullptr;
    size_t row_bytes = 0;
};

WeightRows random_rows(const FloatType &t, int64_t n_rows, int64_t n_cols, size_t gap, std::mt19937 &rng,
                       Spread spread = Spread::kTypical) {
    constexpr size_t kLead = 3;
    const size_t own_bytes = static_cast<size_t>(n_cols / t.block_elements * t.block_bytes);
    WeightRows w;
    w.row_bytes = own_bytes + gap;
    w.storage = std::vector<uint8_t>(kLead + (n_rows > 0 ? w.row_bytes * static_cast<size_t>(n_rows - 1) + own_bytes : 0));
    std::uniform_int_distribution<int> byte(0, 255);
    for (uint8_t &b : w.storage) b = static_cast<uint8_t>(byte(rng));
    w.data = w.storage.data() + kLead;
    std::normal_distribution<float> normal(0.0f, 1.0f);
    const bool full = spread == Spread::kFullRange;
    for (int64_t r = 0; r < n_rows; ++r) {
        uint8_t *row = w.storage.data() + kLead + r * w.row_bytes;
        const float row_scale = std::ldexp(1.0f, byte(rng) % 13 - 6);
        for (int64_t b = 0; b < n_cols / t.block_elements; ++b) {
            uint8_t *block = row + b * t.block_bytes;
            switch (t.type) {
                case TensorType::F32: {
                    const float v = full ? std::ldexp(normal(rng), byte(rng) % 13 - 6) : normal(rng) * row_scale;
                    const uint32_t bits = float_bits(v);
                    for (int k = 0; k < 4; ++k) block[k] = static_cast<uint8_t>(bits >> (8 * k));
                    break;
                }
                case TensorType::F16: {
                    uint16_t bits = full ? u16_at(block) : bitnet::float_to_half(normal(rng) * row_scale);
                    if (((bits >> 10) & 31) == 31) bits ^= 0x4000;  // no inf or NaN
                    store_u16(block, bits);
                    break;
                }
                case TensorType::BF16: {
                    if (full) {  // random sign and mantissa
                        const int exponent = byte(rng) % 16 == 0 ? 0 : 127 + byte(rng) % 41 - 20;
                        store_u16(block, static_cast<uint16_t>((byte(rng) & 0x80) << 8 | exponent << 7 | (byte(rng) & 0x7f)));
                    } else {
                        store_u16(block, bf16_bits_near(normal(rng) * row_scale));
                    }
                    break;
                }
                case TensorType::Q8_0:
                case TensorType::Q4_0: store_u16(block, random_block_scale(spread, row_scale, rng)); break;
                case TensorType::Q6_K: store_u16(block + 208, random_block_scale(spread, row_scale, rng)); break;
                default: break;
            }
        }
    }
    return w;
}

// Activation rows for gemm_float: each token's row is its own pointer, in reverse memory order, at
// unaligned float offsets; the floats between rows are NaN, so a read past n_cols poisons the dot.
// Values are normal with a per-token scale (2^-5..2^5); with Spread::kFullRange one value in a
// hundred is also 50 times larger (outlier features, which make a few terms dominate a dot).
struct Activations {
    std::vector<float> storage;
    std::vector<const float *> rows;
};

Activations random_activations(int64_t n_tokens, int64_t n_cols, std::mt19937 &rng,
                               Spread spread = Spread::kTypical) {
    const int64_t stride = n_cols + 3;
    Activations a;
    a.storage.assign(static_cast<size_t>(1 + (n_tokens > 0 ? stride * (n_tokens - 1) + n_cols : 0)),
                     std::numeric_limits<float>::quiet_NaN());
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::uniform_int_distribution<int> pick(0, 99);
    const bool outliers = spread == Spread::kFullRange;
    for (int64_t t = 0; t < n_tokens; ++t) {
        float *row = a.storage.data() + 1 + (n_tokens - 1 - t) * stride;
        const float scale = std::ldexp(1.0f, pick(rng) % 11 - 5);
        for (int64_t i = 0; i < n_cols; ++i) {
            row[i] = normal(rng) * scale * (outliers && pick(rng) == 0 ? 50.0f : 1.0f);
        }
        a.rows.push_back(row);
    }
    return a;
}

// ------------------------------------------------------------------------------------------------
// gemm_float: running and checking
// ------------------------------------------------------------------------------------------------

// Output of one call: out = buffer + 1, token t's outputs at out[t * stride + r]; everything else in
// the buffer (one float before, the gaps between tokens, a few after) must stay kSentinel.
struct GemmOutput {
    std::vector<float> buffer;
    int64_t stride = 0;
    const float *out() const { return buffer.data() + 1; }
};

GemmOutput run_gemm(const KernelTable &table, const FloatType &t, const WeightRows &w, int64_t n_rows,
                    int64_t n_cols, const Activations &a, int64_t n_tokens) {
    GemmOutput result;
    result.stride = n_rows + 5;
    result.buffer.assign(static_cast<size_t>(1 + n_tokens * result.stride + 4), kSentinel);
    table.gemm_float(t.type, w.data, w.row_bytes, n_rows, n_cols, a.rows.data(), n_tokens, result.buffer.data() + 1,
                     result.stride);
    return result;
}

// The exact (double) dots of the decoded rows with each token, and the sums of the magnitudes of
// their terms, indexed [t * n_rows + r].
struct GemmExpectation {
    std::vector<double> value, magnitude;
};

GemmExpectation expect_gemm(const FloatType &t, const WeightRows &w, int64_t n_rows, int64_t n_cols,
                            const Activations &a, int64_t n_tokens) {
    GemmExpectation e;
    e.value.resize(static_cast<size_t>(n_rows * n_tokens));
    e.magnitude.resize(e.value.size());
    for (int64_t r = 0; r < n_rows; ++r) {
        const std::vector<double> row = decode_row(t, w.data + r * w.row_bytes, n_cols);
        for (int64_t tok = 0; tok < n_tokens; ++tok) {
            double sum = 0.0, magnitude = 0.0;
            for (int64_t i = 0; i < n_cols; ++i) {
                const double term = row[i] * a.rows[tok][i];
                sum += term;
                magnitude += std::fabs(term);
            }
            e.value[tok * n_rows + r] = sum;
            e.magnitude[tok * n_rows + r] = magnitude;
        }
    }
    return e;
}

// Every output within tolerance of want(t, r) (scale from `e`), every other float of the buffer
// untouched.
template <class Want>
::testing::AssertionResult check_gemm(const GemmOutput &got, int64_t n_rows, int64_t n_tokens,
                                      const GemmExpectation &e, Want &&want, const std::string &key,
                                      const std::string &shape, double relative = kRelative) {
    for (size_t k = 0; k < got.buffer.size(); ++k) {
        const int64_t index = static_cast<int64_t>(k) - 1;
        const int64_t tok = index >= 0 ? index / got.stride : -1, r = index >= 0 ? index % got.stride : -1;
        const bool is_output = index >= 0 && tok < n_tokens && r < n_rows;
        if (!is_output) {
            if (float_bits(got.buffer[k]) != float_bits(kSentinel)) {
                return ::testing::AssertionFailure() << key << " " << shape << ": wrote " << got.buffer[k]
                                                     << " outside the outputs, at buffer float " << k << " (stride "
                                                     << got.stride << ")";
            }
            continue;
        }
        ::testing::AssertionResult ok = within_tolerance(got.buffer[k], want(tok, r), e.magnitude[tok * n_rows + r], key, relative);
        if (!ok) return ok << " for " << shape << " at t=" << tok << " r=" << r;
    }
    return ::testing::AssertionSuccess();
}

std::string shape_name(const FloatType &t, int64_t n_rows, int64_t n_tokens, int64_t n_cols) {
    return std::string(t.name) + " rows " + std::to_string(n_rows) + " tokens " + std::to_string(n_tokens) + " cols " +
           std::to_string(n_cols);
}

// Odd row counts (a tile of rows leaves a remainder), 1..6 tokens (tiles of 4 tokens leave 1..3).
constexpr int64_t kRowCounts[] = {1, 3, 17, 67};
// 5, 6, 7 and 9 tokens split into balanced tiles (3 + 2, 3 + 3, 4 + 3, 3 + 3 + 3); 8 and 16 into
// whole 4-token tiles (parallel sequences, speculative verification).
constexpr int64_t kTokenCounts[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 16};

// Columns: odd numbers of blocks; for the plain float types also lengths that are not multiples
// of the vector widths (8, 16, 32), and lengths past the scalar kernel's 256-element decode chunk.
std::vector<int64_t> column_counts(const FloatType &t) {
    if (is_plain_float(t)) return {1, 7, 8, 16, 32, 33, 100, 257, 1000};
    if (t.block_elements == 32) return {32, 3 * 32, 5 * 32, 9 * 32, 33 * 32};
    return {256, 3 * 256, 5 * 256};
}

// ------------------------------------------------------------------------------------------------
// Attention: KV caches, cell lists and blocks of queries
// ------------------------------------------------------------------------------------------------

// A KV cache of n_cells cells, each a row of head_dim elements (F16 or F32) then a gap, so that the
// cell stride exceeds the row and is no multiple of a vector. Gaps and the cells that the test's
// cell list leaves out hold NaN: a kernel that reads them produces NaN, which fails every check.
struct KvCache {
    std::vector<uint8_t> bytes;
    size_t cell_stride = 0;
    bool f16 = false;
    int32_t head_dim = 0;
    std::vector<double> values;  // [cell * head_dim + i], exactly as stored
    double at(int32_t cell, int32_t i) const { return values[static_cast<size_t>(cell) * head_dim + i]; }
};

KvCache random_cache(bool f16, int32_t head_dim, int32_t n_cells, const std::vector<int32_t> &used,
                     std::mt19937 &rng) {
    KvCache c;
    c.f16 = f16;
    c.head_dim = head_dim;
    const size_t element_bytes = f16 ? 2 : 4;
    c.cell_stride = element_bytes * static_cast<size_t>(head_dim + 3);
    c.bytes.resize(c.cell_stride * static_cast<size_t>(n_cells));
    c.values.assign(static_cast<size_t>(n_cells) * static_cast<size_t>(head_dim), 0.0);
    const uint16_t half_nan = 0x7e00;
    const uint32_t float_nan = 0x7fc00000u;
    for (size_t k = 0; k < c.bytes.size(); k += element_bytes) {
        if (f16) {
            store_u16(&c.bytes[k], half_nan);
        } else {
            std::memcpy(&c.bytes[k], &float_nan, 4);
        }
    }
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (const int32_t cell : used) {
        uint8_t *row = c.bytes.data() + static_cast<size_t>(cell) * c.cell_stride;
        for (int32_t i = 0; i < head_dim; ++i) {
            const float v = normal(rng) * 2.0f;
            double stored;
            if (f16) {
                const uint16_t h = bitnet::float_to_half(v);
                store_u16(row + 2 * i, h);
                stored = half_value(h);
            } else {
                std::memcpy(row + 4 * i, &v, 4);
                stored = v;
            }
            c.values[static_cast<size_t>(cell) * head_dim + i] = stored;
        }
    }
    return c;
}

// n_cells distinct cells out of 2 * n_cells + 3, in shuffled order.
std::vector<int32_t> random_cell_list(int32_t n_cells, int32_t *n_cache_cells, std::mt19937 &rng) {
    *n_cache_cells = 2 * n_cells + 3;
    std::vector<int32_t> all(static_cast<size_t>(*n_cache_cells));
    for (int32_t k = 0; k < *n_cache_cells; ++k) all[k] = k;
    std::shuffle(all.begin(), all.end(), rng);
    return std::vector<int32_t>(all.begin(), all.begin() + n_cells);
}

std::vector<float> random_floats(size_t n, float spread, std::mt19937 &rng) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> v(n);
    for (float &x : v) x = normal(rng) * spread;
    return v;
}

// Head sizes around the vector widths (8, 16) and past the SIMD kernels' 256-value row chunk.
constexpr int32_t kHeadDims[] = {1, 7, 8, 16, 64, 100, 128, 136, 300};
// Cell counts around the SIMD kernels' groups of 8 or 16 cells and the score tiles of 2 vectors
// (16 or 32 cells; partial tiles of one vector or a part of one).
constexpr int32_t kCellCounts[] = {1, 2, 5, 7, 17, 31, 40};
// Blocks of queries around the values kernel's groups of 4 and the score tiles of 4 or 8 queries
// (full tiles followed by the smaller ones).
constexpr int32_t kQueryCounts[] = {1, 3, 4, 6, 7, 9, 13};

// One attention case: a block of queries (each its own row at an unaligned address, in reverse
// memory order, NaN between rows), a cache, a shuffled cell list, attention weights (row q at
// weights[q * weight_stride], NaN in the gap after n_cells) and a nonzero starting `out`.
struct AttentionCase {
    int32_t head_dim = 0, n_cells = 0, n_queries = 0;
    std::vector<int32_t> cells;
    KvCache cache;
    std::vector<float> query_storage;
    std::vector<const float *> queries;
    std::vector<float> weights;
    int64_t weight_stride = 0;
    std::vector<std::vector<float>> out_start;  // [q][i]
    float scale = 1.0f;
    std::string name() const {
        return std::string(cache.f16 ? "F16" : "F32") + " head_dim " + std::to_string(head_dim) + " cells " +
               std::to_string(n_cells) + " queries " + std::to_string(n_queries);
    }
};

AttentionCase random_attention_case(bool f16, int32_t head_dim, int32_t n_cells, int32_t n_queries,
                                    std::mt19937 &rng) {
    AttentionCase c;
    c.head_dim = head_dim;
    c.n_cells = n_cells;
    c.n_queries = n_queries;
    int32_t n_cache_cells = 0;
    c.cells = random_cell_list(n_cells, &n_cache_cells, rng);
    c.cache = random_cache(f16, head_dim, n_cache_cells, c.cells, rng);
    const int64_t query_stride = head_dim + 5;
    c.query_storage.assign(static_cast<size_t>(1 + query_stride * (n_queries - 1) + head_dim),
                           std::numeric_limits<float>::quiet_NaN());
    std::normal_distribution<float> normal(0.0f, 1.5f);
    for (int32_t q = 0; q < n_queries; ++q) {
        float *query = c.query_storage.data() + 1 + (n_queries - 1 - q) * query_stride;
        for (int32_t i = 0; i < head_dim; ++i) query[i] = normal(rng);
        c.queries.push_back(query);
    }
    c.weight_stride = n_cells + 2;
    c.weights.assign(static_cast<size_t>(c.weight_stride * (n_queries - 1) + n_cells),
                     std::numeric_limits<float>::quiet_NaN());
    std::uniform_real_distribution<float> weight(-0.25f, 1.0f);  // mostly softmax-like, some negative
    for (int32_t q = 0; q < n_queries; ++q) {
        for (int32_t j = 0; j < n_cells; ++j) c.weights[q * c.weight_stride + j] = weight(rng);
        c.out_start.push_back(random_floats(static_cast<size_t>(head_dim), 3.0f, rng));
    }
    c.scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
    return c;
}

// Scores: scores = buffer + 1, row q at scores[q * stride] (stride n_cells + 3), sentinels in
// every other float of the buffer.
struct ScoresOutput {
    std::vector<float> buffer;
    int64_t stride = 0;
};

ScoresOutput run_scores(const KernelTable &table, const AttentionCase &c) {
    ScoresOutput s;
    s.stride = c.n_cells + 3;
    s.buffer.assign(static_cast<size_t>(1 + c.n_queries * s.stride + 4), kSentinel);
    table.attention_scores(c.queries.data(), c.n_queries, c.cache.bytes.data(), c.cache.cell_stride, c.cache.f16,
                           c.cells.data(), c.n_cells, c.head_dim, c.scale, s.buffer.data() + 1, s.stride);
    return s;
}

// Buffer float k -> (query, cell) of the score it holds, or false for a float no score may touch.
bool locate_score(const ScoresOutput &s, const AttentionCase &c, size_t k, int32_t *q, int32_t *j) {
    if (k == 0) return false;
    const int64_t index = static_cast<int64_t>(k) - 1;
    *q = static_cast<int32_t>(index / s.stride);
    *j = static_cast<int32_t>(index % s.stride);
    return *q < c.n_queries && *j < c.n_cells;
}

// Values: each query's out is its own span of head_dim floats, in reverse memory order, one buffer
// with sentinels between and around them; the spans start as c.out_start.
struct ValuesOutput {
    std::vector<float> buffer;
    int64_t span_stride = 0;
};

ValuesOutput run_values(const KernelTable &table, const AttentionCase &c) {
    ValuesOutput v;
    v.span_stride = c.head_dim + 3;
    v.buffer.assign(static_cast<size_t>(1 + c.n_queries * v.span_stride + 4), kSentinel);
    std::vector<float *> out;
    for (int32_t q = 0; q < c.n_queries; ++q) {
        float *span = v.buffer.data() + 1 + (c.n_queries - 1 - q) * v.span_stride;
        std::copy(c.out_start[q].begin(), c.out_start[q].end(), span);
        out.push_back(span);
    }
    table.attention_values(c.weights.data(), c.weight_stride, c.n_queries, c.cache.bytes.data(), c.cache.cell_stride,
                           c.cache.f16, c.cells.data(), c.n_cells, c.head_dim, out.data());
    return v;
}

bool locate_value(const ValuesOutput &v, const AttentionCase &c, size_t k, int32_t *q, int32_t *i) {
    if (k == 0) return false;
    const int64_t index = static_cast<int64_t>(k) - 1;
    const int64_t span = index / v.span_stride;
    *q = static_cast<int32_t>(c.n_queries - 1 - span);
    *i = static_cast<int32_t>(index % v.span_stride);
    return span < c.n_queries && *i < c.head_dim;
}

// Exact score (q, j), and the magnitude sum its tolerance scales with.
void expect_score(const AttentionCase &c, int32_t q, int32_t j, double *value, double *magnitude) {
    double dot = 0.0, abs_dot = 0.0;
    for (int32_t i = 0; i < c.head_dim; ++i) {
        const double term = static_cast<double>(c.queries[q][i]) * c.cache.at(c.cells[j], i);
        dot += term;
        abs_dot += std::fabs(term);
    }
    *value = dot * c.scale;
    *magnitude = abs_dot * std::fabs(c.scale);
}

// Exact out[q][i] after attention_values: the start value plus the weighted sum.
void expect_value(const AttentionCase &c, int32_t q, int32_t i, double *value, double *magnitude) {
    double sum = c.out_start[q][i], abs_sum = std::fabs(c.out_start[q][i]);
    for (int32_t j = 0; j < c.n_cells; ++j) {
        const double term = static_cast<double>(c.weights[q * c.weight_stride + j]) * c.cache.at(c.cells[j], i);
        sum += term;
        abs_sum += std::fabs(term);
    }
    *value = sum;
    *magnitude = abs_sum;
}

// Every float of `buffer` is either an output, for which locate(k, &a, &b) is true and which is
// compared with want(k, a, b, &value, &scale), or must still be kSentinel.
template <class Locate, class Want>
::testing::AssertionResult check_buffer(const std::vector<float> &buffer, Locate &&locate, Want &&want,
                                        const std::string &key, const std::string &where) {
    for (size_t k = 0; k < buffer.size(); ++k) {
        int32_t a = 0, b = 0;
        if (!locate(k, &a, &b)) {
            if (float_bits(buffer[k]) != float_bits(kSentinel)) {
                return ::testing::AssertionFailure() << key << " " << where << ": wrote " << buffer[k]
                                                     << " outside the outputs, at buffer float " << k;
            }
            continue;
        }
        double value = 0.0, scale = 0.0;
        want(k, a, b, &value, &scale);
        ::testing::AssertionResult ok = within_tolerance(buffer[k], value, scale, key);
        if (!ok) return ok << " for " << where << " at (" << a << ", " << b << ")";
    }
    return ::testing::AssertionSuccess();
}

// Outputs at buffer[1 .. 1 + n), sentinels around them.
template <class Want>
::testing::AssertionResult check_span(const std::vector<float> &buffer, int64_t n, Want &&want, const std::string &key,
                                      const std::string &where) {
    return check_buffer(
        buffer,
        [&](size_t k, int32_t *a, int32_t *b) {
            *a = static_cast<int32_t>(k) - 1;
            *b = 0;
            return k >= 1 && static_cast<int64_t>(k) <= n;
        },
        [&](size_t, int32_t i, int32_t, double *v, double *m) { want(i, v, m); }, key, where);
}

// ------------------------------------------------------------------------------------------------
// rms_norm and gated_activation inputs
// ------------------------------------------------------------------------------------------------

constexpr int64_t kNormSizes[] = {1, 5, 16, 33, 2560};
constexpr float kNormSpreads[] = {1e-3f, 1.0f, 1e3f};
constexpr float kEpsilons[] = {1e-5f, 1e-6f};

// y[i] = x[i] / sqrt(mean(x^2) + eps) * weight[i], in double.
std::vector<double> expected_rms_norm(const std::vector<float> &x, const std::vector<float> &weight, float eps) {
    double sum_squares = 0.0;
    for (float v : x) sum_squares += static_cast<double>(v) * v;
    const double inv_rms = 1.0 / std::sqrt(sum_squares / static_cast<double>(x.size()) + eps);
    std::vector<double> y(x.size());
    for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * inv_rms * weight[i];
    return y;
}

constexpr int64_t kActivationSizes[] = {1, 5, 7, 8, 16, 17, 33, 100, 2560};

// Gates: normal values of varied spread, with zeros, signed zeros, tiny and huge magnitudes placed
// at the start (inside the vector part) and at the end (the scalar tail).
std::vector<float> random_gates(int64_t n, std::mt19937 &rng) {
    std::vector<float> gate = random_floats(static_cast<size_t>(n), 4.0f, rng);
    const float specials[] = {0.0f, -0.0f, 1e-30f, -1e-30f, 50.0f, -50.0f, 88.0f, -88.0f, -100.0f,
                              1e19f, -1e19f, 3e19f, -1e30f, 1e30f, 1.0f, -1.0f};
    constexpr int64_t kSpecials = sizeof specials / sizeof specials[0];
    for (int64_t k = 0; k < kSpecials && k < n; ++k) gate[k] = specials[k];
    for (int64_t k = 0; k < kSpecials && k < n / 2; ++k) gate[n - 1 - k] = specials[(k + 5) % kSpecials];
    return gate;
}

// Ups: normal values with a few zeros; bounded, so that silu(g) * up stays finite for g <= 1e30.
std::vector<float> random_ups(int64_t n, std::mt19937 &rng) {
    std::vector<float> up = random_floats(static_cast<size_t>(n), 1.0f, rng);
    for (int64_t k = 3; k < n; k += 11) up[k] = 0.0f;
    for (float &u : up) u = std::clamp(u, -5.0f, 5.0f);
    return up;
}

// relu(g)^2 * up evaluated as written, in float: the scalar kernel's exact operations.
float relu_squared_float(float g, float up) { return (g > 0.0f ? g * g : 0.0f) * up; }

double silu_double(double g, double up) { return g / (1.0 + std::exp(-g)) * up; }

bool same_float(float a, float b) { return a == b || (std::isnan(a) && std::isnan(b)); }

// ================================================================================================
// 1. The scalar specification against independent expectations
// ================================================================================================

void check_scalar_gemm(const FloatType &t, uint32_t seed) {
    std::mt19937 rng(seed);
    const std::string key = std::string("scalar vs exact: gemm_float ") + t.name;
    for (int64_t n_cols : column_counts(t)) {
        for (int64_t n_rows : kRowCounts) {
            for (int64_t n_tokens : kTokenCounts) {
                const WeightRows w = random_rows(t, n_rows, n_cols, n_rows % 2 ? 6 : 0, rng);
                const Activations a = random_activations(n_tokens, n_cols, rng);
                const GemmExpectation e = expect_gemm(t, w, n_rows, n_cols, a, n_tokens);
                const GemmOutput got = run_gemm(scalar(), t, w, n_rows, n_cols, a, n_tokens);
                ASSERT_TRUE(check_gemm(
                    got, n_rows, n_tokens, e, [&](int64_t tok, int64_t r) { return e.value[tok * n_rows + r]; }, key,
                    shape_name(t, n_rows, n_tokens, n_cols)));
            }
        }
    }
}

TEST(ScalarFloatKernels, GemmFloatF32MatchesExactDots) { check_scalar_gemm(kFloatTypes[0], 101); }
TEST(ScalarFloatKernels, GemmFloatF16MatchesExactDots) { check_scalar_gemm(kFloatTypes[1], 102); }
TEST(ScalarFloatKernels, GemmFloatBF16MatchesExactDots) { check_scalar_gemm(kFloatTypes[2], 103); }
TEST(ScalarFloatKernels, GemmFloatQ80MatchesExactDots) { check_scalar_gemm(kFloatTypes[3], 104); }
TEST(ScalarFloatKernels, GemmFloatQ40MatchesExactDots) { check_scalar_gemm(kFloatTypes[4], 105); }
TEST(ScalarFloatKernels, GemmFloatQ6KMatchesExactDots) { check_scalar_gemm(kFloatTypes[5], 106); }

// Decoding alone, element by element, over every encoding's full range (F16 subnormals to 65504,
// BF16 2^-20..2^20 and subnormals, quant blocks with random bytes): token k's activation row is
// one-hot at column k, so out[k][r] is element k of row r, and no float sum blurs a wrong nibble,
// shift, scale index or exponent. Exact except Q6_K, whose factor d * scale the kernels round to
// float before multiplying by the code (formats.md decodes it in one expression).
void check_one_hot_decoding(const KernelTable &table, const std::string &key_prefix, uint32_t seed) {
    std::mt19937 rng(seed);
    for (const FloatType &t : kFloatTypes) {
        const int64_t n_rows = 5, n_cols = is_plain_float(t) ? 67 : 2 * t.block_elements, n_tokens = n_cols;
        const WeightRows w = random_rows(t, n_rows, n_cols, 2, rng, Spread::kFullRange);
        Activations a;
        a.storage.assign(static_cast<size_t>(n_tokens * n_cols), 0.0f);
        for (int64_t k = 0; k < n_tokens; ++k) {
            a.storage[k * n_cols + k] = 1.0f;
            a.rows.push_back(a.storage.data() + k * n_cols);
        }
        GemmExpectation e;
        for (int64_t k = 0; k < n_tokens; ++k) {
            for (int64_t r = 0; r < n_rows; ++r) {
                e.value.push_back(element(t, w.data + r * w.row_bytes, k));
                e.magnitude.push_back(std::fabs(e.value.back()));
            }
        }
        const GemmOutput got = run_gemm(table, t, w, n_rows, n_cols, a, n_tokens);
        ASSERT_TRUE(check_gemm(
            got, n_rows, n_tokens, e, [&](int64_t k, int64_t r) { return e.value[k * n_rows + r]; },
            key_prefix + t.name, "one-hot " + shape_name(t, n_rows, n_tokens, n_cols),
            t.type == TensorType::Q6_K ? kRelative : 0.0));
    }
}

TEST(ScalarFloatKernels, GemmFloatDecodesEveryElementAsFormatsMd) {
    check_one_hot_decoding(scalar(), "scalar vs exact: one-hot ", 107);
}

// Runs fn(case) for every combination of cache type, head size, cell count and query count.
template <class Fn>
void for_each_attention_case(uint32_t seed, Fn &&fn) {
    std::mt19937 rng(seed);
    for (bool f16 : {true, false}) {
        for (int32_t head_dim : kHeadDims) {
            for (int32_t n_cells : kCellCounts) {
                for (int32_t n_queries : kQueryCounts) {
                    fn(random_attention_case(f16, head_dim, n_cells, n_queries, rng));
                    if (::testing::Test::HasFatalFailure()) return;
                }
            }
        }
    }
}

TEST(ScalarFloatKernels, AttentionScoresAreScaledDotsOverListedCells) {
    for_each_attention_case(111, [](const AttentionCase &c) {
        const ScoresOutput got = run_scores(scalar(), c);
        ASSERT_TRUE(check_buffer(
            got.buffer, [&](size_t k, int32_t *q, int32_t *j) { return locate_score(got, c, k, q, j); },
            [&](size_t, int32_t q, int32_t j, double *v, double *m) { expect_score(c, q, j, v, m); },
            std::string("scalar vs exact: attention_scores ") + (c.cache.f16 ? "F16" : "F32"), c.name()));
    });
}

TEST(ScalarFloatKernels, AttentionValuesAccumulateWeightedRowsIntoOut) {
    for_each_attention_case(112, [](const AttentionCase &c) {
        const ValuesOutput got = run_values(scalar(), c);
        ASSERT_TRUE(check_buffer(
            got.buffer, [&](size_t k, int32_t *q, int32_t *i) { return locate_value(got, c, k, q, i); },
            [&](size_t, int32_t q, int32_t i, double *v, double *m) { expect_value(c, q, i, v, m); },
            std::string("scalar vs exact: attention_values ") + (c.cache.f16 ? "F16" : "F32"), c.name()));
    });
}

// rms_norm into a separate y (with sentinels around it) and in place; zeros included (eps alone).
void check_rms_norm(const KernelTable &table, const std::string &key, bool against_scalar, uint32_t seed) {
    std::mt19937 rng(seed);
    for (int64_t n : kNormSizes) {
        for (float spread : kNormSpreads) {
            for (float eps : kEpsilons) {
                for (bool zeros : {false, true}) {
                    std::vector<float> x = random_floats(static_cast<size_t>(n), zeros ? 0.0f : spread, rng);
                    const std::vector<float> weight = random_floats(static_cast<size_t>(n), 1.0f, rng);
                    const std::string where = "n " + std::to_string(n) + " spread " + std::to_string(spread) + " eps " +
                                              std::to_string(eps) + (zeros ? " zeros" : "");
                    std::vector<double> reference = expected_rms_norm(x, weight, eps);
                    if (against_scalar) {
                        std::vector<float> by_scalar(static_cast<size_t>(n));
                        scalar().rms_norm(x.data(), weight.data(), n, eps, by_scalar.data());
                        reference.assign(by_scalar.begin(), by_scalar.end());
                    }
                    const auto want = [&](int32_t i, double *v, double *m) {
                        *v = reference[i];
                        *m = std::fabs(*v);
                    };
                    std::vector<float> y(static_cast<size_t>(n) + 5, kSentinel);
                    table.rms_norm(x.data(), weight.data(), n, eps, y.data() + 1);
                    ASSERT_TRUE(check_span(y, static_cast<int32_t>(n), want, key, where));
                    // In place: y == x.
                    std::vector<float> in_place(static_cast<size_t>(n) + 5, kSentinel);
                    std::copy(x.begin(), x.end(), in_place.begin() + 1);
                    table.rms_norm(in_place.data() + 1, weight.data(), n, eps, in_place.data() + 1);
                    ASSERT_TRUE(check_span(in_place, static_cast<int32_t>(n), want, key + " in place", where));
                }
            }
        }
    }
}

TEST(ScalarFloatKernels, RmsNormMatchesDoubleFormulaAlsoInPlace) {
    check_rms_norm(scalar(), "scalar vs exact: rms_norm", false, 121);
}

TEST(ScalarFloatKernels, GatedActivationReluSquaredIsExact) {
    std::mt19937 rng(131);
    for (int64_t n : kActivationSizes) {
        const std::vector<float> gate = random_gates(n, rng), up = random_ups(n, rng);
        std::vector<float> got(gate);
        scalar().gated_activation(got.data(), up.data(), n, true);
        for (int64_t i = 0; i < n; ++i) {
            // Exactly relu(g)^2 * up as written in float, and (where that does not overflow) within
            // float rounding of the real value.
            const float want = relu_squared_float(gate[i], up[i]);
            ASSERT_TRUE(same_float(got[i], want)) << "n " << n << " g " << gate[i] << " up " << up[i] << ": got "
                                                  << got[i] << ", expected " << want;
            if (std::isfinite(want)) {
                const double g = std::max(0.0, static_cast<double>(gate[i]));
                const double exact = g * g * up[i];
                ASSERT_TRUE(within_tolerance(got[i], exact, std::fabs(exact), "scalar vs exact: relu^2"))
                    << "n " << n << " g " << gate[i] << " up " << up[i];
            }
        }
    }
}

TEST(ScalarFloatKernels, GatedActivationSiluMatchesDoubleFormula) {
    std::mt19937 rng(132);
    for (int64_t n : kActivationSizes) {
        const std::vector<float> gate = random_gates(n, rng), up = random_ups(n, rng);
        std::vector<float> got(gate);
        scalar().gated_activation(got.data(), up.data(), n, false);
        for (int64_t i = 0; i < n; ++i) {
            const double want = silu_double(gate[i], up[i]);
            ASSERT_TRUE(within_tolerance(got[i], want, std::fabs(want), "scalar vs exact: silu"))
                << "n " << n << " g " << gate[i] << " up " << up[i];
        }
    }
}

// ================================================================================================
// 2. Every variant against the scalar table
// ================================================================================================

class FloatKernelVariant : public ::testing::TestWithParam<std::string> {
protected:
    const KernelTable &table() const { return *bitnet::cpu_kernels_named(GetParam().c_str()); }
    std::string key(const std::string &kernel) const { return GetParam() + " vs scalar: " + kernel; }
};

TEST_P(FloatKernelVariant, TableHasEveryFloatKernel) {
    const KernelTable *t = bitnet::cpu_kernels_named(GetParam().c_str());
    ASSERT_NE(t, nullptr);
    EXPECT_NE(t->gemm_float, nullptr);
    EXPECT_NE(t->attention_scores, nullptr);
    EXPECT_NE(t->attention_values, nullptr);
    EXPECT_NE(t->rms_norm, nullptr);
    EXPECT_NE(t->gated_activation, nullptr);
    EXPECT_NE(t->softmax, nullptr);
}

TEST_P(FloatKernelVariant, GemmFloatMatchesScalarForEveryTypeAndShape) {
    std::mt19937 rng(201);
    for (const FloatType &t : kFloatTypes) {
        for (int64_t n_cols : column_counts(t)) {
            for (int64_t n_rows : kRowCounts) {
                for (int64_t n_tokens : kTokenCounts) {
                    const WeightRows w = random_rows(t, n_rows, n_cols, n_rows % 2 ? 0 : 10, rng);
                    const Activations a = random_activations(n_tokens, n_cols, rng);
                    const GemmExpectation e = expect_gemm(t, w, n_rows, n_cols, a, n_tokens);
                    const GemmOutput want = run_gemm(scalar(), t, w, n_rows, n_cols, a, n_tokens);
                    const GemmOutput got = run_gemm(table(), t, w, n_rows, n_cols, a, n_tokens);
                    ASSERT_TRUE(check_gemm(
                        got, n_rows, n_tokens, e,
                        [&](int64_t tok, int64_t r) { return want.out()[tok * want.stride + r]; },
                        key(std::string("gemm_float ") + t.name), shape_name(t, n_rows, n_tokens, n_cols)));
                }
            }
        }
    }
}

// Batch invariance at the kernel (issue 17): a token's outputs are bit for bit the same whether it
// is multiplied alone or as any token of a call with 1..16 tokens - whichever tile (one-token,
// per-row or shared-activation, any size) and row remainder it lands in. The reference is the
// one-token call of the same variant, each row computed once per token; the tiles must not change
// a bit of it.
TEST_P(FloatKernelVariant, GemmFloatTokenOutputsDoNotDependOnTheBatch) {
    std::mt19937 rng(206);
    for (const FloatType &t : kFloatTypes) {
        const int64_t n_cols = is_plain_float(t) ? 2 * 256 + 37 : 5 * t.block_elements, n_rows = 37, max_tokens = 16;
        const WeightRows w = random_rows(t, n_rows, n_cols, 0, rng);
        const Activations a = random_activations(max_tokens, n_cols, rng);
        std::vector<std::vector<float>> alone(max_tokens, std::vector<float>(n_rows));
        for (int64_t tok = 0; tok < max_tokens; ++tok) {
            table().gemm_float(t.type, w.data, w.row_bytes, n_rows, n_cols, a.rows.data() + tok, 1, alone[tok].data(),
                               n_rows);
        }
        for (int64_t n_tokens = 2; n_tokens <= max_tokens; ++n_tokens) {
            std::vector<float> together(static_cast<size_t>(n_tokens * n_rows));
            // Tokens [first, first + n_tokens) of the 16, so every token is seen at several tile positions.
            const int64_t first = (n_tokens * 5) % (max_tokens - n_tokens + 1);
            table().gemm_float(t.type, w.data, w.row_bytes, n_rows, n_cols, a.rows.data() + first, n_tokens,
                               together.data(), n_rows);
            for (int64_t k = 0; k < n_tokens; ++k) {
                for (int64_t r = 0; r < n_rows; ++r) {
                    ASSERT_EQ(float_bits(together[k * n_rows + r]), float_bits(alone[first + k][r]))
                        << GetParam() << " " << t.name << ": token " << first + k << " of a " << n_tokens
                        << "-token call, row " << r << ": " << together[k * n_rows + r] << " alone "
                        << alone[first + k][r];
                }
            }
        }
    }
}

TEST_P(FloatKernelVariant, GemmFloatDecodesEveryElementAsFormatsMd) {
    check_one_hot_decoding(table(), GetParam() + " vs exact: one-hot ", 204);
}

// Full-range rows (Spread::kFullRange), 2560 columns as in 2B-4T: a few terms dominate each dot,
// so every variant (the scalar one included) is held to the float summation bound instead of 1e-6.
// Compared with the exact dot, so that the bound is each variant's own error.
TEST_P(FloatKernelVariant, GemmFloatOnFullRangeRowsStaysWithinFloatSummationError) {
    std::mt19937 rng(205);
    for (const FloatType &t : kFloatTypes) {
        const int64_t mid = is_plain_float(t) ? 1000 : t.block_elements == 32 ? 33 * 32 : 5 * 256;
        for (int64_t n_cols : {mid, int64_t{2560}}) {
            const int64_t n_rows = 17, n_tokens = 5;
            const WeightRows w = random_rows(t, n_rows, n_cols, 0, rng, Spread::kFullRange);
            const Activations a = random_activations(n_tokens, n_cols, rng, Spread::kFullRange);
            const GemmExpectation e = expect_gemm(t, w, n_rows, n_cols, a, n_tokens);
            const GemmOutput got = run_gemm(table(), t, w, n_rows, n_cols, a, n_tokens);
            ASSERT_TRUE(check_gemm(
                got, n_rows, n_tokens, e, [&](int64_t tok, int64_t r) { return e.value[tok * n_rows + r]; },
                GetParam() + " vs exact: full-range gemm_float " + t.name, shape_name(t, n_rows, n_tokens, n_cols),
                summation_bound(n_cols)));
        }
    }
}

// Weights larger than the SIMD kernels' row chunk (rows are processed in chunks of 256 KiB that
// every tile of tokens passes over): rows in the second and third chunks, with 6 tokens.
TEST_P(FloatKernelVariant, GemmFloatMatchesScalarAcrossRowChunks) {
    std::mt19937 rng(202);
    for (const FloatType &t : kFloatTypes) {
        const int64_t n_cols = 2560;
        const int64_t row_bytes = n_cols / t.block_elements * t.block_bytes;
        const int64_t n_rows = 2 * (256 * 1024 / row_bytes) + 3;
        const int64_t n_tokens = 6;
        const WeightRows w = random_rows(t, n_rows, n_cols, 0, rng);
        const Activations a = random_activations(n_tokens, n_cols, rng);
        const GemmExpectation e = expect_gemm(t, w, n_rows, n_cols, a, n_tokens);
        const GemmOutput want = run_gemm(scalar(), t, w, n_rows, n_cols, a, n_tokens);
        const GemmOutput got = run_gemm(table(), t, w, n_rows, n_cols, a, n_tokens);
        ASSERT_TRUE(check_gemm(
            got, n_rows, n_tokens, e, [&](int64_t tok, int64_t r) { return want.out()[tok * want.stride + r]; },
            key(std::string("gemm_float ") + t.name), shape_name(t, n_rows, n_tokens, n_cols)));
    }
}

// The CPU backend hands each thread a slice of rows (weights + first * row_bytes, out + first):
// slices give what one whole call gives, within the same tolerance.
TEST_P(FloatKernelVariant, GemmFloatRowSlicesMatchScalarWholeCall) {
    std::mt19937 rng(203);
    for (const FloatType &t : kFloatTypes) {
        const int64_t n_rows = 45, n_cols = is_plain_float(t) ? 99 : 3 * t.block_elements, n_tokens = 6;
        const WeightRows w = random_rows(t, n_rows, n_cols, 0, rng);
        const Activations a = random_activations(n_tokens, n_cols, rng);
        const GemmExpectation e = expect_gemm(t, w, n_rows, n_cols, a, n_tokens);
        const GemmOutput want = run_gemm(scalar(), t, w, n_rows, n_cols, a, n_tokens);
        GemmOutput sliced = want;
        std::fill(sliced.buffer.begin(), sliced.buffer.end(), kSentinel);
        for (int64_t first = 0; first < n_rows; first += 16) {
            const int64_t count = std::min<int64_t>(16, n_rows - first);
            table().gemm_float(t.type, w.data + first * w.row_bytes, w.row_bytes, count, n_cols, a.rows.data(), n_tokens,
                               sliced.buffer.data() + 1 + first, sliced.stride);
        }
        ASSERT_TRUE(check_gemm(
            sliced, n_rows, n_tokens, e, [&](int64_t tok, int64_t r) { return want.out()[tok * want.stride + r]; },
            key(std::string("gemm_float ") + t.name), "slices of " + shape_name(t, n_rows, n_tokens, n_cols)));
    }
}

// The scalar kernel's output at the same place, within the tolerance of the exact value's terms.
TEST_P(FloatKernelVariant, AttentionScoresMatchScalar) {
    for_each_attention_case(211, [&](const AttentionCase &c) {
        const ScoresOutput want = run_scores(scalar(), c);
        const ScoresOutput got = run_scores(table(), c);
        ASSERT_TRUE(check_buffer(
            got.buffer, [&](size_t k, int32_t *q, int32_t *j) { return locate_score(got, c, k, q, j); },
            [&](size_t k, int32_t q, int32_t j, double *v, double *m) {
                expect_score(c, q, j, v, m);
                *v = want.buffer[k];
            },
            key(std::string("attention_scores ") + (c.cache.f16 ? "F16" : "F32")), c.name()));
    });
}

TEST_P(FloatKernelVariant, AttentionValuesMatchScalar) {
    for_each_attention_case(212, [&](const AttentionCase &c) {
        const ValuesOutput want = run_values(scalar(), c);
        const ValuesOutput got = run_values(table(), c);
        ASSERT_TRUE(check_buffer(
            got.buffer, [&](size_t k, int32_t *q, int32_t *i) { return locate_value(got, c, k, q, i); },
            [&](size_t k, int32_t q, int32_t i, double *v, double *m) {
                expect_value(c, q, i, v, m);
                *v = want.buffer[k];
            },
            key(std::string("attention_values ") + (c.cache.f16 ? "F16" : "F32")), c.name()));
    });
}

TEST_P(FloatKernelVariant, RmsNormMatchesScalarAlsoInPlace) { check_rms_norm(table(), key("rms_norm"), true, 221); }

TEST_P(FloatKernelVariant, GatedActivationMatchesScalar) {
    std::mt19937 rng(231);
    const std::string silu_key = key("silu");
    for (int64_t n : kActivationSizes) {
        const std::vector<float> gate = random_gates(n, rng), up = random_ups(n, rng);
        std::vector<float> want_relu(gate), got_relu(gate), want_silu(gate), got_silu(gate);
        scalar().gated_activation(want_relu.data(), up.data(), n, true);
        table().gated_activation(got_relu.data(), up.data(), n, true);
        scalar().gated_activation(want_silu.data(), up.data(), n, false);
        table().gated_activation(got_silu.data(), up.data(), n, false);
        for (int64_t i = 0; i < n; ++i) {
            // relu^2 has no sum and no library call: the same float operations give the same value.
            ASSERT_TRUE(same_float(got_relu[i], want_relu[i]))
                << GetParam() << " relu^2 n " << n << " g " << gate[i] << " up " << up[i] << ": got " << got_relu[i]
                << ", scalar " << want_relu[i];
            ASSERT_TRUE(within_tolerance(got_silu[i], want_silu[i], std::fabs(want_silu[i]), silu_key))
                << "n " << n << " g " << gate[i] << " up " << up[i];
        }
    }
}

// Softmax inputs as attention makes them: scores of a few units around an offset, some cells
// masked with -inf, and spreads wide enough that some weights underflow.
std::vector<float> random_scores(int64_t n, std::mt19937 &rng) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::uniform_int_distribution<int> pick(0, 9);
    const float offset = normal(rng) * 30.0f, spread = std::ldexp(1.0f, pick(rng) % 6);
    std::vector<float> x(static_cast<size_t>(n));
    for (float &v : x) v = pick(rng) == 0 ? -std::numeric_limits<float>::infinity() : offset + normal(rng) * spread;
    x[static_cast<size_t>(n) / 2] = offset;  // at least one finite entry
    return x;
}

TEST(ScalarFloatKernels, SoftmaxMatchesDoubleFormulaAndZeroesMaskedEntries) {
    std::mt19937 rng(241);
    for (int64_t n : {1, 2, 7, 16, 17, 100, 513}) {
        for (int trial = 0; trial < 20; ++trial) {
            std::vector<float> x = random_scores(n, rng), got = x;
            const float total = scalar().softmax(got.data(), n);
            double max_value = -INFINITY, want_total = 0.0;
            for (float v : x) max_value = std::max(max_value, static_cast<double>(v));
            for (int64_t i = 0; i < n; ++i) {
                // The kernel subtracts in float (as attention would), then exponentiates.
                const double want = std::exp(static_cast<double>(x[i] - static_cast<float>(max_value)));
                want_total += want;
                if (std::isinf(x[i])) {
                    ASSERT_EQ(got[i], 0.0f) << "masked entry " << i;
                }
                ASSERT_NEAR(got[i], want, 1e-6 * want + 1e-37) << "n " << n << " x " << x[i];
            }
            // A float sum of n terms in order: rounding error grows like sqrt(n) * 2^-24.
            const double sum_tolerance = std::max(1e-6, 4.0 * std::sqrt(static_cast<double>(n)) * std::ldexp(1.0, -24));
            ASSERT_NEAR(total, want_total, sum_tolerance * want_total) << "n " << n;
        }
    }
}

TEST_P(FloatKernelVariant, SoftmaxMatchesScalar) {
    std::mt19937 rng(242);
    const std::string softmax_key = key("softmax");
    for (int64_t n : {1, 2, 7, 8, 15, 16, 17, 33, 100, 513, 4096}) {
        for (int trial = 0; trial < 20; ++trial) {
            const std::vector<float> x = random_scores(n, rng);
            std::vector<float> want = x, got = x;
            const float want_total = scalar().softmax(want.data(), n);
            const float got_total = table().softmax(got.data(), n);
            double got_sum = 0.0;
            for (int64_t i = 0; i < n; ++i) {
                if (std::isinf(x[i])) {
                    ASSERT_EQ(got[i], 0.0f) << GetParam() << " masked entry " << i << " of " << n;
                }
                // Weights below float's normal range may flush to 0; they weigh nothing next to the 1 at the max.
                ASSERT_TRUE(within_tolerance(got[i], want[i], std::fabs(want[i]) + 1e-37, softmax_key))
                    << "n " << n << " x " << x[i] << " got " << got[i] << " scalar " << want[i];
                got_sum += got[i];
            }
            // The returned total is the sum of the variant's own weights (any order; float rounding
            // grows like sqrt(n) * 2^-24), and within that of the scalar total.
            const double sum_tolerance = std::max(1e-6, 4.0 * std::sqrt(static_cast<double>(n)) * std::ldexp(1.0, -24));
            ASSERT_NEAR(got_total, got_sum, sum_tolerance * got_sum) << GetParam() << " n " << n;
            ASSERT_NEAR(got_total, want_total, 2.0 * sum_tolerance * want_total) << GetParam() << " n " << n;
        }
    }
}

// ================================================================================================
// 3. Empty calls write nothing
// ================================================================================================

TEST_P(FloatKernelVariant, GemmFloatWithNoRowsOrNoTokensWritesNothing) {
    std::mt19937 rng(301);
    for (const FloatType &t : kFloatTypes) {
        const int64_t n_cols = t.block_elements * 3;
        const WeightRows w = random_rows(t, 4, n_cols, 0, rng);
        const Activations a = random_activations(3, n_cols, rng);
        for (const auto &[n_rows, n_tokens] : {std::pair<int64_t, int64_t>{0, 3}, {4, 0}, {0, 0}}) {
            std::vector<float> out(64, kSentinel);
            table().gemm_float(t.type, w.data, w.row_bytes, n_rows, n_cols, a.rows.data(), n_tokens, out.data(), 8);
            for (size_t k = 0; k < out.size(); ++k) {
                ASSERT_EQ(float_bits(out[k]), float_bits(kSentinel))
                    << t.name << " rows " << n_rows << " tokens " << n_tokens << ": wrote out[" << k << "]";
            }
        }
    }
}

// n_cols = 0 is a multiple of every block: each output is the empty sum, 0.
TEST_P(FloatKernelVariant, GemmFloatWithNoColumnsWritesZeros) {
    for (const FloatType &t : kFloatTypes) {
        const uint8_t weights[1] = {0};
        const float x0[1] = {0.0f};
        const float *x[5] = {x0, x0, x0, x0, x0};
        std::vector<float> out(5 * 4, kSentinel);
        table().gemm_float(t.type, weights, 0, 3, 0, x, 5, out.data(), 4);
        for (int64_t tok = 0; tok < 5; ++tok) {
            for (int64_t r = 0; r < 4; ++r) {
                const float v = out[tok * 4 + r];
                if (r < 3) {
                    EXPECT_EQ(v, 0.0f) << t.name << " t " << tok << " r " << r;
                } else {
                    EXPECT_EQ(float_bits(v), float_bits(kSentinel)) << t.name << " gap written at t " << tok;
                }
            }
        }
    }
}

// Batch invariance (issue 17 item 6): a query's score for a cell, and its weighted sum of the
// values, are bit-identical whatever other queries and cells share the call - the tiles and tails
// they land in differ (first, middle and last query of the block, alone or in short runs, cells
// from other offsets in the group of 16 and the score tiles of 4).
TEST_P(FloatKernelVariant, AttentionOfAQueryDoesNotDependOnTheRestOfTheCall) {
    std::mt19937 rng(231);
    struct Part {
        int32_t q0, q1, j0;  // queries [q0, q1), cells [j0, n_cells)
    };
    constexpr int32_t kQueries = 11, kCells = 37;
    for (bool f16 : {true, false}) {
        for (int32_t head_dim : {7, 64, 128, 300}) {
            const AttentionCase whole = random_attention_case(f16, head_dim, kCells, kQueries, rng);
            const ScoresOutput all_scores = run_scores(table(), whole);
            const ValuesOutput all_values = run_values(table(), whole);
            for (const Part &p : {Part{0, 1, 0}, Part{3, 4, 0}, Part{10, 11, 0}, Part{1, 6, 0}, Part{2, 11, 5},
                                  Part{5, 7, 19}, Part{0, 11, 36}, Part{9, 11, 3}}) {
                AttentionCase part = whole;
                part.n_queries = p.q1 - p.q0;
                part.queries.assign(whole.queries.begin() + p.q0, whole.queries.begin() + p.q1);
                part.out_start.assign(whole.out_start.begin() + p.q0, whole.out_start.begin() + p.q1);
                part.weights.assign(whole.weights.begin() + p.q0 * whole.weight_stride, whole.weights.end());
                const ValuesOutput values = run_values(table(), part);  // all the cells
                part.n_cells = kCells - p.j0;
                part.cells.assign(whole.cells.begin() + p.j0, whole.cells.end());
                const ScoresOutput scores = run_scores(table(), part);
                const std::string where = part.name() + " from query " + std::to_string(p.q0) + " cell " +
                                          std::to_string(p.j0) + " of " + whole.name();
                for (int32_t q = 0; q < part.n_queries; ++q) {
                    for (int32_t j = 0; j < part.n_cells; ++j) {
                        ASSERT_EQ(float_bits(scores.buffer[1 + q * scores.stride + j]),
                                  float_bits(all_scores.buffer[1 + (p.q0 + q) * all_scores.stride + p.j0 + j]))
                            << key("attention_scores") << " query " << q << " cell " << j << ": " << where;
                    }
                    const float *got = values.buffer.data() + 1 + (part.n_queries - 1 - q) * values.span_stride;
                    const float *want =
                        all_values.buffer.data() + 1 + (kQueries - 1 - (p.q0 + q)) * all_values.span_stride;
                    for (int32_t i = 0; i < head_dim; ++i) {
                        ASSERT_EQ(float_bits(got[i]), float_bits(want[i]))
                            << key("attention_values") << " query " << q << " element " << i << ": " << where;
                    }
                }
            }
        }
    }
}

// No cells: no score is written and every out keeps its values. No queries: nothing is written.
TEST_P(FloatKernelVariant, AttentionWithNoCellsOrNoQueriesWritesNothing) {
    std::mt19937 rng(302);
    for (bool f16 : {true, false}) {
        for (int32_t head_dim : kHeadDims) {
            for (const auto &[n_cells, n_queries] : {std::pair<int32_t, int32_t>{0, 3}, {5, 0}, {0, 0}}) {
                AttentionCase c = random_attention_case(f16, head_dim, std::max(n_cells, 1), 3, rng);
                c.n_cells = n_cells;
                c.n_queries = n_queries;
                const ScoresOutput scores = run_scores(table(), c);
                for (float v : scores.buffer) {
                    ASSERT_EQ(float_bits(v), float_bits(kSentinel)) << c.name() << ": a score was written";
                }
                const ValuesOutput values = run_values(table(), c);
                ASSERT_TRUE(check_buffer(
                    values.buffer, [&](size_t k, int32_t *q, int32_t *i) { return locate_value(values, c, k, q, i); },
                    [&](size_t, int32_t q, int32_t i, double *v, double *m) {
                        *v = c.out_start[q][i];
                        *m = 0.0;  // exactly unchanged
                    },
                    key("attention_values"), c.name()));
            }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Available, FloatKernelVariant, ::testing::ValuesIn(variant_names()),
                         [](const ::testing::TestParamInfo<std::string> &info) { return info.param; });

}  // namespace
