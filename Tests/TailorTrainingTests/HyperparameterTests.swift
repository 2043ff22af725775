// The hyperparameter declarations: one per key, each with help, a round trip through the saved JSON, and flags
// parsed by the same declarations as recipes.
import XCTest
@testable import TailorTraining

final class HyperparameterTests: XCTestCase {
    func testEveryKeyIsDeclaredOnceWithHelp() {
        let keys = TrainingConfiguration.keys
        XCTAssertEqual(Set(keys).count, keys.count, "a key is declared twice")
        XCTAssertGreaterThanOrEqual(keys.count, 43)
        for parameter in TrainingConfiguration.hyperparameters {
            XCTAssertFalse(parameter.help.isEmpty, parameter.key)
            XCTAssertTrue(parameter.key.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "_" }, parameter.key)
            XCTAssertEqual(parameter.flag, "--" + parameter.key.replacingOccurrences(of: "_", with: "-"))
        }
    }

    /// Every key survives the saved JSON: a configuration with every value changed from its default decodes equal.
    func testSavedConfigurationRoundTripsEveryKey() throws {
        var c = TrainingConfiguration()
        c.method = .qlora; c.learningRate = 3e-4; c.epochs = 2.5; c.maxSteps = 7; c.batchSize = 3
        c.gradientAccumulationSteps = 5; c.warmupSteps = 0.1; c.warmupRatio = 0.2; c.lrSchedulerType = .cosine
        c.weightDecay = 0.01; c.maxGradNorm = 0.5; c.adamBeta1 = 0.8; c.adamBeta2 = 0.95; c.adamEpsilon = 1e-6
        c.seed = 7; c.shuffle = false; c.gradientCheckpointing = false; c.maxLength = 99; c.computeDType = .f32
        c.neftuneNoiseAlpha = 5; c.loraR = 4; c.loraAlpha = 8; c.loraDropout = 0.1; c.targetModules = "q_proj,v_proj"
        c.useRSLoRA = true; c.initAdapter = "a"; c.evalSteps = 3; c.loggingSteps = 2; c.saveSteps = 4; c.saveTotalLimit = 3
        c.skipNonFiniteSteps = true; c.bnb4bitQuantType = "fp4"; c.bnb4bitUseDoubleQuant = false; c.bnb4bitBlocksize = 128
        c.reportTo = "tensorboard"; c.objective = .dpo; c.beta = 0.2; c.lossType = .ipo; c.labelSmoothing = 0.1
        c.simpoGamma = 0.7; c.referenceFree = true; c.truncationMode = .keepEnd; c.precomputeRefLogProbs = true
        let json = try JSONEncoder().encode(c)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: json) as? [String: Any])
        XCTAssertEqual(Set(object.keys), Set(TrainingConfiguration.keys), "every changed key is saved")
        XCTAssertEqual(try JSONDecoder().decode(TrainingConfiguration.self, from: json), c)
        // Unset optionals are left out, as before (saved runs of earlier versions read the same).
        let plain = try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(TrainingConfiguration())) as? [String: Any])
        XCTAssertNil(plain["learning_rate"])
        XCTAssertEqual(try JSONDecoder().decode(TrainingConfiguration.self, from: Data("{}".utf8)), TrainingConfiguration())
    }

    func testFlagsParseThroughTheDeclarations() throws {
        let (values, origins) = try TrainingConfiguration.flagValues(["--lora-r", "16", "--learning-rate=1e-4", "--target-modules", "8",
                                                                      "--shuffle", "false", "--method", "full", "--lora-r=32"])
        let c = try TrainingConfiguration.decode(values: values, origins: origins)
        XCTAssertEqual(c.loraR, 32, "the last of a repeated flag wins")
        XCTAssertEqual(c.learningRate, 1e-4)
        XCTAssertEqual(c.targetModules, "8", "a string key keeps the flag's text")
        XCTAssertFalse(c.shuffle)
        XCTAssertEqual(c.method, .full)
        XCTAssertEqual(origins["lora_r"], "--lora-r")
        let seed = try TrainingConfiguration.flagValues(["--seed", "18446744073709551615"])
        XCTAssertEqual(try TrainingConfiguration.decode(values: seed.values).seed, UInt64.max, "a seed above Int.max keeps every digit")
    }

    func testBadFlagsAreNamedErrors() {
        func message(_ arguments: [String]) -> String? {
            do {
                let (values, origins) = try TrainingConfiguration.flagValues(arguments)
                _ = try TrainingConfiguration.decode(values: values, origins: origins)
                return nil
            } catch { return "\(error)" }
        }
        XCTAssertEqual(message(["--lora-rank", "8"]), "--lora-rank: unknown option; did you mean --lora-r?")
        XCTAssertEqual(message(["--lora-r"]), "lora_r: --lora-r needs a value (an integer in 1...65536)")
        XCTAssertEqual(message(["--lora-r", "8.5"]), "lora_r: expected an integer, got 8.5 (--lora-r)")
        XCTAssertEqual(message(["--seed", "-3"]), "seed: expected a non-negative integer, got -3 (--seed)")
        XCTAssertEqual(message(["--method", "lorax"]), "method: expected one of full, lora, qlora, got \"lorax\" (--method)")
        XCTAssertEqual(message(["--batch-size", "9223372036854775807"]), "batch_size: must be in 1...65536, got 9223372036854775807 (--batch-size)")
        XCTAssertEqual(message(["stray"]), "stray: unexpected argument; hyperparameters are given as --key value")
    }

    func testRangesComeFromTheDeclarations() {
        for parameter in TrainingConfiguration.hyperparameters where parameter.accepts.contains(" in ") {
            XCTAssertNil(parameter.inRange(TrainingConfiguration()), "the default of \(parameter.key) is in its range")
        }
        var c = TrainingConfiguration()
        c.loraDropout = 1
        XCTAssertThrowsError(try c.validate()) { XCTAssertEqual("\($0)", "lora_dropout: must be in [0.0, 1.0), got 1.0") }
    }
}
