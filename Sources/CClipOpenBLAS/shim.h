// OpenBLAS's CBLAS interface (Debian: libopenblas-dev) and its thread controls.
#include <cblas.h>
// Declared by OpenBLAS; repeated here since some cblas.h alternatives omit them.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
