// Predicts memory and time of full fine-tuning, LoRA and QLoRA for a request, and recommends one.
import TailorFormats

/// Makes plans with a set of coefficients (the defaults, or a calibration).
public struct Planner: Sendable {
    public var coefficients: PlanCoefficients

    public init(coefficients: PlanCoefficients = .standard) { self.coefficients = coefficients }

    /// A plan with the default coefficients.
    public static func plan(_ request: PlanRequest) throws -> Plan { try Planner().plan(request) }

    /// Memory, time and the recommendation for every method; throws `PlanError` for an invalid request or a
    /// target regex that does not compile.
    public func plan(_ request: PlanRequest) throws -> Plan {
        try request.validate()
        let shape = request.model
        let recommended = request.exampleCount.map { Preflight.recommendedRank(rows: $0, coefficients: coefficients) }
        let rank = request.loraRank ?? recommended ?? 16
        let alpha = request.loraAlpha ?? coefficients.alphaPerRank * Double(rank)
        let (targets, adapterParameters, targetsPerLayer) = try adapterLayout(shape, request: request, rank: rank)

        let methods = TrainingMethod.allCases.map {
            methodPlan($0, request: request, rank: rank, targetsPerLayer: targetsPerLayer, adapterParameters: adapterParameters)
        }
        let recommendation = recommend(request: request, methods: methods, rank: rank, targetsPerLayer: targetsPerLayer,
                                       adapterParameters: adapterParameters)
        let findings = preflight(request: request, methods: methods, recommendation: recommendation, rank: rank)
        return Plan(request: request, parameterCount: shape.parameterCount, loraRank: rank, loraAlpha: alpha,
                    adapterParameters: adapterParameters, targetedModuleCount: targets.count, methods: methods,
                    recommendation: recommendation, findings: findings)
    }

    /// The achieved FLOP/s per device implied by a measured training throughput (tokens per second per device)
    /// of `method` at the request's settings: what `PlanRequest.flopsPerSecond` should be for that stack.
    public func achievedFlopsPerSecond(tokensPerSecond: Double, method: TrainingMethod,
                                       request: PlanRequest) throws -> Double {
        try request.validate()
        let rank = request.loraRank ?? 16
        let adapterParameters = try adapterLayout(request.model, request: request, rank: rank).parameters
        let perToken = TimeModel(request: request, coefficients: coefficients)
            .flopsPerToken(method, adapterParameters: adapterParameters)
        return tokensPerSecond * perToken * (method == .qlora ? coefficients.qloraDequantOverhead : 1)
    }

    /// The targeted modules of `shape`, their adapter parameters Σ r·(d_in + d_out), and the targeted kinds per layer.
    func adapterLayout(_ shape: ModelShape, request: PlanRequest, rank: Int) throws
        -> (modules: [LinearModule], parameters: Int, perLayer: [Set<String>]) {
        let modules = try TargetModuleMatcher(spec: request.loraTargets, exclude: request.loraExclude)
            .select(from: shape.linearModules)
        var perLayer = Array(repeating: Set<String>(), count: shape.layerCount)
        for module in modules {
            if let layer = module.layer, layer < shape.layerCount { perLayer[layer].insert(module.kind) }
        }
        return (modules, modules.reduce(0) { $0 + rank * ($1.inFeatures + $1.outFeatures) }, perLayer)
    }

    func activationModel(_ method: TrainingMethod, request: PlanRequest, rank: Int,
                         targetsPerLayer: [Set<String>]) -> ActivationModel {
        ActivationModel(shape: request.model, activationBytes: request.weightDType.bytes,
                        adapterBytes: Int(coefficients.adapterBytes), attention: request.attention,
                        baseTrains: method == .full, loraRank: method == .full ? 0 : rank,
                        targetsPerLayer: method == .full ? nil : targetsPerLayer)
    }

    func methodPlan(_ method: TrainingMethod, request: PlanRequest, rank: Int, targetsPerLayer: [Set<String>],
                    adapterParameters: Int) -> MethodPlan {
        let memoryModel = MemoryModel(request: request, coefficients: coefficients)
        let activations = activationModel(method, request: request, rank: rank, targetsPerLayer: targetsPerLayer)
        func estimate(batch: Int) -> (MemoryEstimate, ActivationEstimate) {
            let detail = activations.estimate(batch: batch, sequenceLength: request.sequenceLength,
                                              checkpointing: request.gradientCheckpointing, coefficients: coefficients)
            return (memoryModel.estimate(method, adapterParameters: adapterParameters, activations: detail.total), detail)
        }
        let (memory, detail) = estimate(batch: request.microBatchSize)
        let both = [false, true].map {
            activations.estimate(batch: request.microBatchSize, sequenceLength: request.sequenceLength,
                                 checkpointing: $0, coefficients: coefficients).total
        }
        // Activations grow linearly with the batch: double until it no longer fits, then bisect.
        var maxBatch = 0
        if estimate(batch: 1).0.fits {
            var low = 1, high = 2
            while high <= 65_536 && estimate(batch: high).0.fits { low = high; high *= 2 }
            while high - low > 1 {
                let middle = (low + high) / 2
                if estimate(batch: middle).0.fits { low = middle } else { high = middle }
            }
            maxBatch = low
        }
        let time = TimeModel(request: request, coefficients: coefficients).estimate(method, adapterParameters: adapterParameters)
        return MethodPlan(method: method,
                          trainableParameters: memoryModel.trainableParameters(method, adapterParameters: adapterParameters),
                          memory: memory, activationDetail: detail, activationsWithoutCheckpointing: both[0],
                          activationsWithCheckpointing: both[1], maxMicroBatchSize: maxBatch, time: time)
    }

    func recommend(request: PlanRequest, methods: [MethodPlan], rank: Int, targetsPerLayer: [Set<String>],
                   adapterParameters: Int) -> Recommendation {
        let shape = request.model
        let total = request.memoryPerDevice.bytes * request.deviceCount
        let fp16 = 2 * shape.parameterCount
        let fits = Dictionary(uniqueKeysWithValues: methods.map { ($0.method, $0.maxMicroBatchSize > 0) })
        let (chosen, ruleNotes) = Recommender.chooseMethod(totalMemory: total, parameterCount: shape.parameterCount,
                                                            fits: fits, coefficients: coefficients)
        let ratio = Double(total) / Double(fp16)
        let memoryText = "\(ByteSize.format(total)) is \(String(format: "%.1f", ratio))× the 16-bit model size "
            + "(\(ByteSize.format(fp16)))"
        var notes = ruleNotes
        if let rows = request.exampleCount, rows < coefficients.minimumRows {
            notes.append("only \(rows) training rows: collect more data first (at least \(coefficients.minimumRows))")
        }
        guard let method = chosen, let plan = methods.first(where: { $0.method == method }) else {
            return Recommendation(method: nil, reason: memoryText + "; even QLoRA at micro-batch 1 does not fit",
                                  notes: notes, alternatives: alternatives(request: request, rank: rank,
                                                                           targetsPerLayer: targetsPerLayer,
                                                                           adapterParameters: adapterParameters))
        }
        if request.deviceCount > 1 {
            var single = request
            single.deviceCount = 1
            single.sharded = false
            let alone = methodPlan(method, request: single, rank: rank, targetsPerLayer: targetsPerLayer,
                                   adapterParameters: adapterParameters)
            if alone.maxMicroBatchSize == 0 {
                notes.append("\(method.displayName) does not fit on one device: use sharded data parallelism "
                    + "(FSDP full_shard / DeepSpeed ZeRO-3) over the \(request.deviceCount) devices")
            }
        }
        let thresholds: [TrainingMethod: Double] = [.full: coefficients.fullMemoryFactor,
                                                    .lora: coefficients.loraMemoryFactor, .qlora: coefficients.qloraMemoryFactor]
        let reason = memoryText + " (≥ \(thresholds[method] ?? 0)× for \(method.displayName)); estimate "
            + "\(ByteSize.format(plan.memory.total)) per device at micro-batch \(request.microBatchSize)"
        let batching = Recommender.batching(maxMicroBatch: plan.maxMicroBatchSize, deviceCount: request.deviceCount,
                                            coefficients: coefficients)
        let adapter = method != .full
        let recommendedRank = request.exampleCount.map { Preflight.recommendedRank(rows: $0, coefficients: coefficients) } ?? rank
        return Recommendation(
            method: method, reason: reason, notes: notes, alternatives: [],
            loraRank: adapter ? recommendedRank : nil,
            loraAlpha: adapter ? coefficients.alphaPerRank * Double(recommendedRank) : nil,
            learningRate: adapter ? coefficients.adapterLearningRate : coefficients.fullLearningRate,
            microBatchSize: batching.micro, gradientAccumulation: batching.accumulation,
            effectiveBatchSize: batching.micro * batching.accumulation * request.deviceCount,
            epochs: request.exampleCount.map { Recommender.epochs(rows: $0, coefficients: coefficients) }
                ?? coefficients.epochs.first)
    }

    /// When nothing fits: gradient checkpointing if that alone makes QLoRA fit; else the largest preset (same model
    /// type first) whose QLoRA estimate fits here, and how many devices of this size would fit this model with
    /// QLoRA sharded (both with checkpointing).
    func alternatives(request: PlanRequest, rank: Int, targetsPerLayer: [Set<String>], adapterParameters: Int) -> [String] {
        var base = request
        base.gradientCheckpointing = true
        if !request.gradientCheckpointing,
           methodPlan(.qlora, request: base, rank: rank, targetsPerLayer: targetsPerLayer,
                      adapterParameters: adapterParameters).maxMicroBatchSize > 0 {
            return ["enable gradient checkpointing: QLoRA then fits"]
        }
        var result: [String] = []
        let sameType = { (preset: ModelPreset) in preset.shape.modelType == request.model.modelType }
        let smaller = ModelPresets.all.enumerated()
            .filter { $0.element.shape.parameterCount < request.model.parameterCount }
            .sorted {
                let (a, b) = ($0.element, $1.element)
                if sameType(a) != sameType(b) { return sameType(a) }
                if a.shape.parameterCount != b.shape.parameterCount { return a.shape.parameterCount > b.shape.parameterCount }
                return $0.offset > $1.offset  // the newer of equal sizes (Llama 3.1 over 3)
            }
            .map(\.element)
        for preset in smaller {
            var candidate = base
            candidate.model = preset.shape
            guard let (_, parameters, perLayer) = try? adapterLayout(preset.shape, request: request, rank: rank) else { break }
            if methodPlan(.qlora, request: candidate, rank: rank, targetsPerLayer: perLayer,
                          adapterParameters: parameters).maxMicroBatchSize > 0 {
                let billions = String(format: "%.2f", Double(preset.shape.parameterCount) / 1e9)
                result.append("a smaller model: \(preset.name) (\(billions) B parameters) fits with QLoRA"
                    + " and gradient checkpointing")
                break
            }
        }
        var devices = request.deviceCount + 1
        while devices <= 1024 {
            var candidate = base
            candidate.deviceCount = devices
            candidate.sharded = true
            if methodPlan(.qlora, request: candidate, rank: rank, targetsPerLayer: targetsPerLayer,
                          adapterParameters: adapterParameters).maxMicroBatchSize > 0 {
                result.append("more devices: \(devices) × \(ByteSize.format(request.memoryPerDevice.bytes)) with QLoRA "
                    + "sharded (FSDP / ZeRO-3) and gradient checkpointing")
                break
            }
            devices += devices < 16 ? 1 : devices / 4
        }
        if result.isEmpty { result.append("a smaller model or devices with more memory") }
        return result
    }

    func preflight(request: PlanRequest, methods: [MethodPlan], recommendation: Recommendation, rank: Int) -> [Finding] {
        let method = request.method ?? recommendation.method ?? .qlora
        var findings: [Finding] = []
        if method != .full {
            if let rows = request.exampleCount {
                findings += Preflight.loraRank(rank, exampleCount: rows, coefficients: coefficients)
            }
            findings += Preflight.targetModules(request.loraTargets, exclude: request.loraExclude,
                                                linearModules: request.model.linearModules.map(\.name))
        }
        if let rate = request.learningRate {
            findings += Preflight.learningRate(rate, method: method, coefficients: coefficients)
        }
        findings += Preflight.effectiveBatch(microBatchSize: request.microBatchSize,
                                             gradientAccumulation: request.gradientAccumulation,
                                             deviceCount: request.deviceCount, coefficients: coefficients)
        if let plan = methods.first(where: { $0.method == method }) {
            findings += Preflight.memory(predicted: plan.memory.total, available: plan.memory.available, method: method,
                                         gradientCheckpointing: request.gradientCheckpointing, coefficients: coefficients)
        }
        return findings
    }
}
