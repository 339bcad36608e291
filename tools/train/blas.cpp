#include "train/blas.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace bitnet::train {

void set_training_threads(int n) {
    openblas_set_num_threads(n);
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
}

}  // namespace bitnet::train
