// The C library's heap, where Swift's tensors live.
#include "CTailorKernels.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

void tk_trim_heap(void) {
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}
