// Row-major matrix products through OpenBLAS (cblas), overloaded for float (training) and double
// (the gradient check), so the model code is written once for both.
#pragma once

#include <cblas.h>

namespace bitnet::train {

// C = alpha * op(A) op(B) + beta * C, op(X) = X or X^T; M x N result, K the inner dimension.
inline void gemm(bool transpose_a, bool transpose_b, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float beta, float *c, int ldc) {
    cblas_sgemm(CblasRowMajor, transpose_a ? CblasTrans : CblasNoTrans, transpose_b ? CblasTrans : CblasNoTrans, m, n, k,
                alpha, a, lda, b, ldb, beta, c, ldc);
}

inline void gemm(bool transpose_a, bool transpose_b, int m, int n, int k, double alpha, const double *a, int lda,
                 const double *b, int ldb, double beta, double *c, int ldc) {
    cblas_dgemm(CblasRowMajor, transpose_a ? CblasTrans : CblasNoTrans, transpose_b ? CblasTrans : CblasNoTrans, m, n, k,
                alpha, a, lda, b, ldb, beta, c, ldc);
}

// Threads OpenBLAS and OpenMP may use (1 makes results bit-reproducible run to run, and is the
// fastest for the tiny matrices of tests).
void set_training_threads(int n);

}  // namespace bitnet::train
