// Open MPI's C API (Debian's libopenmpi-dev) as plain functions: mpi.h names its communicator, datatypes and
// operations through macros over global objects, which Swift cannot import; these inline wrappers can.
#include <mpi.h>
#include <stdlib.h>

/// MPI_Init_thread with MPI_THREAD_FUNNELED (only the main thread calls MPI); errors return instead of aborting.
static inline int cmpi_init(void) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
        int provided = 0;
        int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
        if (rc != MPI_SUCCESS) return rc;
    }
    return MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}
static inline int cmpi_finalize(void) { return MPI_Finalize(); }
static inline int cmpi_rank(int *rank) { return MPI_Comm_rank(MPI_COMM_WORLD, rank); }
static inline int cmpi_size(int *size) { return MPI_Comm_size(MPI_COMM_WORLD, size); }
static inline int cmpi_abort(int code) { return MPI_Abort(MPI_COMM_WORLD, code); }
static inline int cmpi_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }

static inline int cmpi_allreduce_sum_f32(float *values, int count) {
    return MPI_Allreduce(MPI_IN_PLACE, values, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}
/// op: 0 sum, 1 min, 2 max.
static inline int cmpi_allreduce_f64(double *values, int count, int op) {
    MPI_Op o = op == 1 ? MPI_MIN : op == 2 ? MPI_MAX : MPI_SUM;
    return MPI_Allreduce(MPI_IN_PLACE, values, count, MPI_DOUBLE, o, MPI_COMM_WORLD);
}
static inline int cmpi_reduce_scatter_sum_f32(const float *input, float *output, const int *counts) {
    return MPI_Reduce_scatter(input, output, counts, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}
static inline int cmpi_allgatherv_f32(const float *input, int count, float *output, const int *counts,
                                      const int *displacements) {
    return MPI_Allgatherv(input, count, MPI_FLOAT, output, counts, displacements, MPI_FLOAT, MPI_COMM_WORLD);
}
static inline int cmpi_allgatherv_bytes(const void *input, int count, void *output, const int *counts,
                                        const int *displacements) {
    return MPI_Allgatherv(input, count, MPI_BYTE, output, counts, displacements, MPI_BYTE, MPI_COMM_WORLD);
}
static inline int cmpi_gatherv_f32(const float *input, int count, float *output, const int *counts,
                                   const int *displacements, int root) {
    return MPI_Gatherv(input, count, MPI_FLOAT, output, counts, displacements, MPI_FLOAT, root, MPI_COMM_WORLD);
}
static inline int cmpi_bcast_f32(float *values, int count, int root) {
    return MPI_Bcast(values, count, MPI_FLOAT, root, MPI_COMM_WORLD);
}
/// Starts an in-place sum over all ranks without waiting. On success `*request` holds a handle (allocated here) that
/// cmpi_test may poll and cmpi_wait must end, which frees it; `values` must stay valid until then.
static inline int cmpi_iallreduce_sum_f32(float *values, int count, void **request) {
    MPI_Request *r = (MPI_Request *)malloc(sizeof(MPI_Request));
    if (r == NULL) return MPI_ERR_NO_MEM;
    int rc = MPI_Iallreduce(MPI_IN_PLACE, values, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, r);
    if (rc != MPI_SUCCESS) { free(r); return rc; }
    *request = r;
    return MPI_SUCCESS;
}
/// Starts a sum over all ranks scattered by `counts` (this rank's slice into `output`) without waiting; as
/// cmpi_iallreduce_sum_f32, and `input`, `output` and `counts` must stay valid until cmpi_wait.
static inline int cmpi_ireduce_scatter_sum_f32(const float *input, float *output, const int *counts, void **request) {
    MPI_Request *r = (MPI_Request *)malloc(sizeof(MPI_Request));
    if (r == NULL) return MPI_ERR_NO_MEM;
    int rc = MPI_Ireduce_scatter(input, output, counts, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, r);
    if (rc != MPI_SUCCESS) { free(r); return rc; }
    *request = r;
    return MPI_SUCCESS;
}
/// Lets a started collective progress (Open MPI moves non-blocking collectives on inside MPI calls); `*done` is 1
/// once it completed.
static inline int cmpi_test(void *request, int *done) { return MPI_Test((MPI_Request *)request, done, MPI_STATUS_IGNORE); }
/// Waits for a started collective and frees its handle.
static inline int cmpi_wait(void *request) {
    int rc = MPI_Wait((MPI_Request *)request, MPI_STATUS_IGNORE);
    free(request);
    return rc;
}
/// The library's message for an error code, NUL-terminated in `out` (at least MPI_MAX_ERROR_STRING bytes).
static inline void cmpi_error_string(int code, char *out) {
    int length = 0;
    out[0] = 0;
    if (MPI_Error_string(code, out, &length) == MPI_SUCCESS && length >= 0 && length < MPI_MAX_ERROR_STRING) out[length] = 0;
}
static inline int cmpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
