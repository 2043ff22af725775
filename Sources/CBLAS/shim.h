// The CBLAS interface of Debian's OpenBLAS (libopenblas-dev); pkg-config `openblas` adds the include path.
#include <cblas.h>
