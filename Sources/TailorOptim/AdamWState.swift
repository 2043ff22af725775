// Saving and restoring AdamW state (step count, exp_avg and exp_avg_sq per parameter) for exact resume.
import TailorTensor

/// The scalar part of the optimizer state, saved next to the moment tensors (JSON in a checkpoint).
public struct AdamWState: Codable, Sendable, Equatable {
    /// Optimizer steps taken.
    public var stepCount: Int
    /// The parameters the moments belong to, in step order.
    public var parameterNames: [String]

    public init(stepCount: Int, parameterNames: [String]) {
        self.stepCount = stepCount
        self.parameterNames = parameterNames
    }

    enum CodingKeys: String, CodingKey {
        case stepCount = "step", parameterNames = "parameter_names"
    }
}

extension AdamW {
    /// The name of a parameter's first-moment tensor in saved state.
    public static func expAvgName(_ parameter: String) -> String { "exp_avg.\(parameter)" }
    /// The name of a parameter's second-moment tensor in saved state.
    public static func expAvgSqName(_ parameter: String) -> String { "exp_avg_sq.\(parameter)" }

    /// The moment tensors, `exp_avg.<parameter>` then `exp_avg_sq.<parameter>` per parameter in step order (empty
    /// before the first step). They share storage with the optimizer until either side writes (copy-on-write).
    public func stateTensors() -> [(name: String, tensor: Tensor)] {
        var out: [(name: String, tensor: Tensor)] = []
        for (i, name) in parameterNames.enumerated() {
            out.append((Self.expAvgName(name), expAvg[i]))
            out.append((Self.expAvgSqName(name), expAvgSq[i]))
        }
        return out
    }

    /// The step count and parameter names.
    public var scalarState: AdamWState {
        AdamWState(stepCount: stepCount, parameterNames: parameterNames)
    }

    /// An optimizer that continues bit-identically from saved state.
    ///
    /// - Parameters:
    ///   - tensors: saved tensors by name (extra entries that are not optimizer state are ignored).
    ///   - scalarState: the saved step count and parameter names.
    ///   - parameterNames: the trainable parameters of this run, in step order.
    ///   - shapes: their shapes, same order.
    /// - Throws: `OptimError.parameterSetMismatch` when the saved state covers other parameters,
    ///   `.missingStateTensor`, `.stateShapeMismatch` or `.stateDTypeMismatch` for a bad moment tensor.
    public init(configuration: AdamWConfiguration, restoring tensors: [String: Tensor], scalarState: AdamWState,
                parameterNames: [String], shapes: [[Int]]) throws(OptimError) {
        guard parameterNames.count == shapes.count else {
            throw .inconsistentArguments("\(parameterNames.count) parameter names but \(shapes.count) shapes")
        }
        guard scalarState.stepCount >= 0 else {
            throw .invalidSetting(field: "step", value: "\(scalarState.stepCount)", hint: "a step count is ≥ 0")
        }
        self.init(configuration: configuration)
        if scalarState.stepCount == 0 { return }  // nothing was accumulated yet; state starts lazily as usual
        if scalarState.parameterNames != parameterNames {
            let saved = Set(scalarState.parameterNames), now = Set(parameterNames)
            let missing = parameterNames.filter { !saved.contains($0) }
            let unexpected = scalarState.parameterNames.filter { !now.contains($0) }
            // Same set in another order is fine: state is looked up by name.
            if !missing.isEmpty || !unexpected.isEmpty || saved.count != scalarState.parameterNames.count {
                throw .parameterSetMismatch(missing: missing, unexpected: unexpected)
            }
        }
        var m: [Tensor] = [], v: [Tensor] = []
        for (name, shape) in zip(parameterNames, shapes) {
            m.append(try Self.stateTensor(Self.expAvgName(name), in: tensors, shape: shape))
            v.append(try Self.stateTensor(Self.expAvgSqName(name), in: tensors, shape: shape))
        }
        restore(stepCount: scalarState.stepCount, parameterNames: parameterNames, expAvg: m, expAvgSq: v)
    }

    private static func stateTensor(_ name: String, in tensors: [String: Tensor], shape: [Int]) throws(OptimError)
        -> Tensor
    {
        guard let tensor = tensors[name] else { throw .missingStateTensor(name: name) }
        guard tensor.dtype == .f32 else { throw .stateDTypeMismatch(name: name, found: tensor.dtype.rawValue) }
        guard tensor.shape == shape else { throw .stateShapeMismatch(name: name, expected: shape, found: tensor.shape) }
        return tensor
    }
}
