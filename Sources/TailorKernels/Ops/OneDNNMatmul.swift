// oneDNN's bf16 matmul primitive on the CPU engine: primitives created once per shape and calling thread and kept,
// and frozen weights reordered once into the blocked layout oneDNN's matmul prefers (kept beside the weight's bytes).
// Legend: M rows, K inner dimension, N output columns; a weight W is stored [N, K] (the Hugging Face layout).
#if canImport(CDNNL)
import CDNNL
import Synchronization
import TailorTensor
#if canImport(Glibc)
import Glibc
#endif

/// oneDNN's matmul, one single-threaded product per call (Tailor splits products over its own workers). A failed
/// call returns false and the caller falls back to the emulated product.
enum OneDNN {
    /// One CPU engine for the process (oneDNN engines are thread-safe).
    nonisolated(unsafe) static let engine: dnnl_engine_t? = {
        var engine: dnnl_engine_t?
        return dnnl_engine_create(&engine, dnnl_cpu, 0) == dnnl_success ? engine : nil
    }()

    /// `c (+)= a · b` on the calling thread with both operands strided in memory; `c` row-major with rows `ldc` apart.
    static func matmul(_ a: BF16Operand, _ b: BF16Operand, into c: UnsafeMutablePointer<Float>, ldc: Int,
                       accumulate: Bool) -> Bool {
        let key = MatmulKey(thread: currentThread(), m: a.rows, k: a.columns, n: b.columns, aStrides: [a.rowStride, a.columnStride],
                            b: .strided(b.rowStride, b.columnStride), ldc: ldc, accumulate: accumulate)
        guard let primitive = primitive(for: key, weights: { describe(b.rows, b.columns, b.rowStride, b.columnStride, dnnl_bf16) })
        else { return false }
        return primitive.execute(a.base, b.base, c)
    }

    /// `c = a · Wᵀ` on the calling thread with W pre-packed (`packedTransposedWeight`); `c` row-major, `ldc` apart.
    static func matmul(_ a: BF16Operand, packed w: PackedBF16Weight, into c: UnsafeMutablePointer<Float>, ldc: Int) -> Bool {
        precondition(a.columns == w.k, "bf16 product: \(a.rows)×\(a.columns) · packed \(w.k)×\(w.n)")
        let key = MatmulKey(thread: currentThread(), m: a.rows, k: a.columns, n: w.n, aStrides: [a.rowStride, a.columnStride],
                            b: .packed, ldc: ldc, accumulate: false)
        guard let bytes = w.storage, let primitive = primitive(for: key, weights: { w.descriptor }) else { return false }
        return primitive.execute(a.base, UnsafePointer(bytes.pointer.assumingMemoryBound(to: UInt16.self)), c)
    }

    /// W[N, K] (bf16, rows K apart) reordered into the layout oneDNN's matmul picks for `x · Wᵀ` when left free to
    /// choose (`format_tag_any`); nil when oneDNN offers no optimized kernel for it.
    static func packedTransposedWeight(_ w: UnsafePointer<UInt16>, n: Int, k: Int) -> PackedBF16Weight? {
        guard let engine, n > 0, k > 0 else { return nil }
        omp_set_num_threads(1)
        // The layout depends on K, N and the CPU, not on M: a representative M picks it.
        var dims: [Int64] = [Int64(packingRows), Int64(k)], weightDims: [Int64] = [Int64(k), Int64(n)]
        var outDims: [Int64] = [Int64(packingRows), Int64(n)]
        var source = dnnl_memory_desc_t(), free = dnnl_memory_desc_t(), destination = dnnl_memory_desc_t()
        guard dnnl_memory_desc_init_by_tag(&source, 2, &dims, dnnl_bf16, dnnl_ab) == dnnl_success,
              dnnl_memory_desc_init_by_tag(&free, 2, &weightDims, dnnl_bf16, dnnl_format_tag_any) == dnnl_success,
              dnnl_memory_desc_init_by_tag(&destination, 2, &outDims, dnnl_f32, dnnl_ab) == dnnl_success
        else { return nil }
        var descriptor = dnnl_matmul_desc_t()
        guard dnnl_matmul_desc_init(&descriptor, &source, &free, nil, &destination) == dnnl_success else { return nil }
        var primitiveDescriptor: dnnl_primitive_desc_t?
        guard dnnl_primitive_desc_create(&primitiveDescriptor, &descriptor, nil, engine, nil) == dnnl_success else { return nil }
        defer { dnnl_primitive_desc_destroy(primitiveDescriptor) }
        guard isOptimized(primitiveDescriptor), let chosen = dnnl_primitive_desc_query_md(primitiveDescriptor, dnnl_query_weights_md, 0)
        else { return nil }
        var packedDescriptor = chosen.pointee
        guard var plain = describe(k, n, 1, k, dnnl_bf16) else { return nil }   // Wᵀ: K × N, strides (1, K)
        let size = dnnl_memory_desc_get_size(&packedDescriptor)
        let storage = TensorStorage(uninitializedByteCount: Int(size))

        var reorderDescriptor: dnnl_primitive_desc_t?
        guard dnnl_reorder_primitive_desc_create(&reorderDescriptor, &plain, engine, &packedDescriptor, engine, nil) == dnnl_success
        else { return nil }
        defer { dnnl_primitive_desc_destroy(reorderDescriptor) }
        var reorder: dnnl_primitive_t?
        guard dnnl_primitive_create(&reorder, reorderDescriptor) == dnnl_success else { return nil }
        defer { dnnl_primitive_destroy(reorder) }
        var from: dnnl_memory_t?, to: dnnl_memory_t?, stream: dnnl_stream_t?
        defer { dnnl_memory_destroy(from); dnnl_memory_destroy(to); dnnl_stream_destroy(stream) }
        guard dnnl_memory_create(&from, &plain, engine, UnsafeMutableRawPointer(mutating: w)) == dnnl_success,
              dnnl_memory_create(&to, &packedDescriptor, engine, storage.pointer) == dnnl_success,
              dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue) == dnnl_success
        else { return nil }
        var arguments = [dnnl_exec_arg_t(arg: DNNL_ARG_FROM, memory: from), dnnl_exec_arg_t(arg: DNNL_ARG_TO, memory: to)]
        guard dnnl_primitive_execute(reorder, stream, Int32(arguments.count), &arguments) == dnnl_success,
              dnnl_stream_wait(stream) == dnnl_success
        else { return nil }
        return PackedBF16Weight(descriptor: packedDescriptor, storage: storage, n: n, k: k)
    }

    /// Rows of the representative product that picks the packed layout.
    static let packingRows = 256

    // MARK: Primitive cache

    /// What a primitive is specialised on. The calling thread is part of it: a primitive keeps one scratchpad, so
    /// one primitive never runs on two threads at once.
    struct MatmulKey: Hashable {
        enum Weights: Hashable { case strided(Int, Int), packed }
        var thread: UInt
        var m: Int, k: Int, n: Int
        var aStrides: [Int]
        var b: Weights
        var ldc: Int
        var accumulate: Bool
    }

    /// Cached primitives (nil: oneDNN refused the shape, so the caller falls back without asking again). Cleared
    /// when it grows past `cacheLimit` (inference with many prompt lengths); entries in use stay alive.
    private static let primitives = Mutex<[MatmulKey: MatmulPrimitive?]>([:])
    static let cacheLimit = 1024

    /// The number of cached primitives (tests).
    static var cachedPrimitiveCount: Int { primitives.withLock { $0.count } }

    private static func primitive(for key: MatmulKey, weights: () -> dnnl_memory_desc_t?) -> MatmulPrimitive? {
        if let found = primitives.withLock({ $0[key] }) { return found }
        let made = makePrimitive(key, weights: weights())
        primitives.withLock { table in
            if table.count >= cacheLimit { table.removeAll() }
            table[key] = .some(made)
        }
        return made
    }

    private static func makePrimitive(_ key: MatmulKey, weights: dnnl_memory_desc_t?) -> MatmulPrimitive? {
        guard let engine, var weights,
              var source = describe(key.m, key.k, key.aStrides[0], key.aStrides[1], dnnl_bf16),
              var destination = describe(key.m, key.n, key.ldc, 1, dnnl_f32)
        else { return nil }
        var descriptor = dnnl_matmul_desc_t()
        guard dnnl_matmul_desc_init(&descriptor, &source, &weights, nil, &destination) == dnnl_success else { return nil }
        // Accumulation: a "sum" post-op adds the previous contents of c.
        var attributes: dnnl_primitive_attr_t?, postOps: dnnl_post_ops_t?
        defer {
            dnnl_post_ops_destroy(postOps)
            dnnl_primitive_attr_destroy(attributes)
        }
        if key.accumulate {
            guard dnnl_primitive_attr_create(&attributes) == dnnl_success, dnnl_post_ops_create(&postOps) == dnnl_success,
                  dnnl_post_ops_append_sum(postOps, 1) == dnnl_success,
                  dnnl_primitive_attr_set_post_ops(attributes, postOps) == dnnl_success
            else { return nil }
        }
        var primitiveDescriptor: dnnl_primitive_desc_t?
        guard dnnl_primitive_desc_create(&primitiveDescriptor, &descriptor, attributes, engine, nil) == dnnl_success
        else { return nil }
        // A packed weight is only worth it with an optimized kernel (a reference kernel would accept any layout).
        if key.b == .packed && !isOptimized(primitiveDescriptor) {
            dnnl_primitive_desc_destroy(primitiveDescriptor)
            return nil
        }
        return MatmulPrimitive(engine: engine, primitiveDescriptor: primitiveDescriptor, source: source, weights: weights,
                               destination: destination)
    }

    /// False for oneDNN's reference (naive) implementations.
    private static func isOptimized(_ primitiveDescriptor: dnnl_primitive_desc_t?) -> Bool {
        var name: UnsafePointer<CChar>?
        guard dnnl_primitive_desc_query(primitiveDescriptor, dnnl_query_impl_info_str, 0, &name) == dnnl_success,
              let name else { return false }
        return !String(cString: name).hasPrefix("ref")
    }

    static func describe(_ rows: Int, _ columns: Int, _ rowStride: Int, _ columnStride: Int,
                         _ type: dnnl_data_type_t) -> dnnl_memory_desc_t? {
        var desc = dnnl_memory_desc_t()
        var dims: [Int64] = [Int64(rows), Int64(columns)], strides: [Int64] = [Int64(rowStride), Int64(columnStride)]
        return dnnl_memory_desc_init_by_strides(&desc, 2, &dims, type, &strides) == dnnl_success ? desc : nil
    }

    private static func currentThread() -> UInt { UInt(pthread_self()) }
}

/// A matmul primitive with its memory objects and stream, used by one thread at a time (its cache key's thread).
final class MatmulPrimitive: @unchecked Sendable {
    private let primitiveDescriptor: dnnl_primitive_desc_t?
    private var primitive: dnnl_primitive_t?
    private var source: dnnl_memory_t?, weights: dnnl_memory_t?, destination: dnnl_memory_t?
    private var stream: dnnl_stream_t?
    private let ready: Bool

    init(engine: dnnl_engine_t, primitiveDescriptor: dnnl_primitive_desc_t?, source sourceDescriptor: dnnl_memory_desc_t,
         weights weightsDescriptor: dnnl_memory_desc_t, destination destinationDescriptor: dnnl_memory_desc_t) {
        self.primitiveDescriptor = primitiveDescriptor
        var s = sourceDescriptor, w = weightsDescriptor, d = destinationDescriptor
        // Memory objects start without data (DNNL_MEMORY_NONE); each call sets its pointers.
        ready = dnnl_primitive_create(&primitive, primitiveDescriptor) == dnnl_success
            && dnnl_memory_create(&source, &s, engine, nil) == dnnl_success
            && dnnl_memory_create(&weights, &w, engine, nil) == dnnl_success
            && dnnl_memory_create(&destination, &d, engine, nil) == dnnl_success
            && dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue) == dnnl_success
    }

    deinit {
        dnnl_stream_destroy(stream)
        dnnl_memory_destroy(source)
        dnnl_memory_destroy(weights)
        dnnl_memory_destroy(destination)
        dnnl_primitive_destroy(primitive)
        dnnl_primitive_desc_destroy(primitiveDescriptor)
    }

    /// Runs the product on the calling thread.
    func execute(_ a: UnsafePointer<UInt16>, _ b: UnsafePointer<UInt16>, _ c: UnsafeMutablePointer<Float>) -> Bool {
        guard ready else { return false }
        omp_set_num_threads(1)   // an OpenMP setting of this thread only
        guard dnnl_memory_set_data_handle(source, UnsafeMutableRawPointer(mutating: a)) == dnnl_success,
              dnnl_memory_set_data_handle(weights, UnsafeMutableRawPointer(mutating: b)) == dnnl_success,
              dnnl_memory_set_data_handle(destination, UnsafeMutableRawPointer(c)) == dnnl_success
        else { return false }
        var arguments = [
            dnnl_exec_arg_t(arg: DNNL_ARG_SRC_0, memory: source),
            dnnl_exec_arg_t(arg: DNNL_ARG_WEIGHTS_0, memory: weights),
            dnnl_exec_arg_t(arg: DNNL_ARG_DST_0, memory: destination),
        ]
        return dnnl_primitive_execute(primitive, stream, Int32(arguments.count), &arguments) == dnnl_success
            && dnnl_stream_wait(stream) == dnnl_success
    }
}
#endif

/// A bf16 weight W[N, K] reordered once into oneDNN's blocked layout for `x · Wᵀ`; it lives beside the weight's bytes
/// (`TensorStorage.derived`), so frozen weights are packed at first use and full fine-tuning's `computeCopy` once per
/// optimizer step (each step makes a new copy).
final class PackedBF16Weight: Sendable {
    #if canImport(CDNNL)
    /// oneDNN's description of the packed layout; nil when the weight could not be packed.
    nonisolated(unsafe) let descriptor: dnnl_memory_desc_t?
    #endif
    /// The packed bytes (counted by `MemoryTracker`); nil when the weight could not be packed.
    let storage: TensorStorage?
    let n: Int, k: Int
    private let broken: Atomic<Bool>

    /// True once packing or a packed product failed: callers use the plain weight from then on.
    var failed: Bool {
        get { broken.load(ordering: .relaxed) }
        set { broken.store(newValue, ordering: .relaxed) }
    }

    #if canImport(CDNNL)
    init(descriptor: dnnl_memory_desc_t, storage: TensorStorage, n: Int, k: Int) {
        self.descriptor = descriptor
        self.storage = storage
        self.n = n
        self.k = k
        broken = Atomic(false)
    }
    #endif

    private init(unavailableN n: Int, k: Int) {
        #if canImport(CDNNL)
        descriptor = nil
        #endif
        storage = nil
        self.n = n
        self.k = k
        broken = Atomic(true)
    }

    /// The marker kept for a weight oneDNN cannot pack, so that packing is not tried again.
    static func unavailable(n: Int, k: Int) -> PackedBF16Weight { PackedBF16Weight(unavailableN: n, k: k) }
}
