// Schedules, warmup rounding, total steps and decay groups against transformers' own functions.
import TailorOptim
import XCTest

final class ScheduleTests: XCTestCase {
    /// λ and lr tables from torch's LambdaLR over transformers' lambdas. Same f64 operations in the same order, so the
    /// values must be identical; 1e-15 relative is allowed only for a libm `cos` that rounds differently.
    func testScheduleTablesMatchTransformers() throws {
        let fixture = try Fixtures.load(ScheduleFixture.self, "schedules.json")
        XCTAssertEqual(fixture.tables.count, 36)
        var compared = 0, identical = 0
        for table in fixture.tables {
            let schedule = try XCTUnwrap(LearningRateSchedule(rawValue: table.schedule), table.schedule)
            for (step, expectedLR) in table.learning_rates.enumerated() {
                let what = "\(table.schedule) T=\(table.total_steps) W=\(table.warmup_steps) step \(step)"
                let lambda = schedule.multiplier(step: step, totalSteps: table.total_steps, warmupSteps: table.warmup_steps)
                let lr = schedule.learningRate(base: fixture.base_learning_rate, step: step,
                                               totalSteps: table.total_steps, warmupSteps: table.warmup_steps)
                XCTAssertEqual(lambda, table.multipliers[step], accuracy: 1e-15 * abs(table.multipliers[step]), what)
                XCTAssertEqual(lr, expectedLR, accuracy: 1e-15 * abs(expectedLR), what)
                compared += 1
                if lr == expectedLR && lambda == table.multipliers[step] { identical += 1 }
            }
        }
        XCTAssertGreaterThan(compared, 300)
        print("schedules: \(identical) of \(compared) learning rates bit-identical")
    }

    func testFirstUpdateUsesLambdaZero() {
        // The scheduler steps after the optimizer: with warmup the first update has lr 0, without it the base lr.
        XCTAssertEqual(LearningRateSchedule.cosine.multiplier(step: 0, totalSteps: 10, warmupSteps: 2), 0)
        XCTAssertEqual(LearningRateSchedule.linear.multiplier(step: 0, totalSteps: 10, warmupSteps: 0), 1)
    }

    func testWarmupStepsTransformers5() throws {
        let fixture = try Fixtures.load(StepsFixture.self, "steps.json")
        XCTAssertEqual(fixture.warmup.transformers_5.count, 66)
        for row in fixture.warmup.transformers_5 {
            XCTAssertEqual(try TrainingSteps.warmupSteps(totalSteps: row.total_steps, warmupSteps: row.warmup_steps,
                                                         warmupRatio: nil),
                           row.result, "T=\(row.total_steps) warmup_steps=\(row.warmup_steps)")
        }
    }

    func testWarmupStepsTransformers4() throws {
        let fixture = try Fixtures.load(StepsFixture.self, "steps.json")
        XCTAssertEqual(fixture.warmup.transformers_4.count, 54)
        for row in fixture.warmup.transformers_4 {
            XCTAssertEqual(try TrainingSteps.warmupSteps(totalSteps: row.total_steps, warmupSteps: row.warmup_steps,
                                                         warmupRatio: row.warmup_ratio),
                           row.result, "T=\(row.total_steps) warmup_steps=\(row.warmup_steps) ratio=\(row.warmup_ratio)")
        }
    }

    func testWarmupRoundingInDouble() throws {
        // 100 · 0.07 = 7.000000000000001 in IEEE double, so ceil gives 8; 100 · 0.03 = 3 exactly.
        XCTAssertEqual(try TrainingSteps.warmupSteps(totalSteps: 100, warmupSteps: nil, warmupRatio: 0.07), 8)
        XCTAssertEqual(try TrainingSteps.warmupSteps(totalSteps: 100, warmupSteps: 0.07, warmupRatio: nil), 8)
        XCTAssertEqual(try TrainingSteps.warmupSteps(totalSteps: 100, warmupSteps: nil, warmupRatio: 0.03), 3)
    }

    func testWarmupRejectsNegative() {
        XCTAssertThrowsError(try TrainingSteps.warmupSteps(totalSteps: 10, warmupSteps: -1, warmupRatio: nil)) { error in
            XCTAssertTrue("\(error)".contains("warmup_steps"), "\(error)")
        }
        XCTAssertThrowsError(try TrainingSteps.warmupSteps(totalSteps: 10, warmupSteps: nil, warmupRatio: .nan))
    }

    func testTotalStepsMatchTrainer() throws {
        let fixture = try Fixtures.load(StepsFixture.self, "steps.json")
        XCTAssertEqual(fixture.total_steps.count, 9)
        for row in fixture.total_steps {
            let total = try TrainingSteps.totalSteps(maxSteps: row.max_steps, epochs: row.epochs,
                                                     batchesPerEpoch: row.batches_per_epoch, accumulation: row.accumulation)
            XCTAssertEqual(total, row.result, "\(row)")
        }
        XCTAssertThrowsError(try TrainingSteps.totalSteps(maxSteps: nil, epochs: 1, batchesPerEpoch: 4, accumulation: 0))
    }

    func testDecayGroupsMatchTrainer() throws {
        let fixture = try Fixtures.load(StepsFixture.self, "steps.json")
        XCTAssertEqual(fixture.decay.count, 28)
        XCTAssertTrue(fixture.decay.contains { $0.decays } && fixture.decay.contains { !$0.decays })
        for row in fixture.decay {
            XCTAssertEqual(AdamW.decays(parameterNamed: row.name), row.decays, row.name)
        }
    }
}
