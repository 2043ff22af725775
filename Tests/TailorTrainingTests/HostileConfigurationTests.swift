// Hyperparameters and recipes from issue 15: every bad value is a named error with its key and origin.
import XCTest
@testable import TailorTraining

final class HostileConfigurationTests: XCTestCase {
    private func message(_ values: [String: Any], _ origins: [String: String] = [:]) -> String? {
        do { _ = try TrainingConfiguration.decode(values: values, origins: origins); return nil } catch { return "\(error)" }
    }

    func testWrongTypesNameKeyExpectationAndLine() {
        XCTAssertEqual(message(["lora_r": 8.5], ["lora_r": "recipe.yaml:3"]), "lora_r: expected an integer, got 8.5 (recipe.yaml:3)")
        XCTAssertEqual(message(["shuffle": 3]), "shuffle: expected true or false, got 3")
        XCTAssertEqual(message(["method": "lorax"]), "method: expected one of full, lora, qlora, got \"lorax\"")
        XCTAssertEqual(message(["seed": -3]), "seed: expected a non-negative integer, got -3")
        XCTAssertEqual(message(["epochs": "two"]), "epochs: expected a number, got \"two\"")
        XCTAssertEqual(message(["lora_dropout": [1, 2]]), "lora_dropout: expected a single value, got a list")
    }

    func testNonFiniteNumbersNameTheKey() {
        XCTAssertEqual(message(["learning_rate": Double.nan], ["learning_rate": "--learning-rate"]),
                       "learning_rate: expected a finite number, got nan (--learning-rate)")
        XCTAssertEqual(message(["weight_decay": Double.infinity]), "weight_decay: expected a finite number, got inf")
    }

    func testValuesNearIntMaxAreRefusedBeforeArithmetic() {
        for key in ["lora_r", "batch_size", "gradient_accumulation_steps", "max_steps", "max_length", "save_steps",
                    "eval_steps", "logging_steps", "save_total_limit"] {
            let text = message([key: Int.max]) ?? ""
            XCTAssertTrue(text.hasPrefix("\(key): must be in "), text)
        }
        XCTAssertEqual(message(["epochs": 1e9]), "epochs: must be in [0.0, 1000000.0], got 1000000000.0")
    }

    func testEachStepKeyHasItsOwnMessage() {
        XCTAssertEqual(message(["logging_steps": 0]), "logging_steps: must be in 1...1000000000, got 0")
        XCTAssertEqual(message(["eval_steps": -1]), "eval_steps: must be in 0...1000000000, got -1")
        XCTAssertEqual(message(["save_steps": -1]), "save_steps: must be in 0...1000000000, got -1")
        XCTAssertEqual(message(["save_total_limit": 0]), "save_total_limit: must be in 1...1000000, got 0")
    }

    func testGoodValuesDecode() throws {
        let c = try TrainingConfiguration.decode(values: ["lora_r": 16, "learning_rate": 1e-4, "method": "full", "epochs": 2])
        XCTAssertEqual(c.loraR, 16)
        XCTAssertEqual(c.method, .full)
    }

    func testRecipeBoundsRefuseDeepNestingAndAliasBombs() {
        func refused(_ text: String) -> String? {
            do { try RecipeBounds.check(text, file: "r.yaml"); return nil } catch { return "\(error)" }
        }
        XCTAssertEqual(refused("a: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)),
                       "r.yaml:1: nested more than 64 levels deep")
        XCTAssertEqual(refused((0..<100).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n")),
                       "r.yaml:66: nested more than 64 levels deep")
        XCTAssertEqual(refused(String(repeating: "- ", count: 5000) + "x"), "r.yaml:1: nested more than 64 levels deep")
        var bomb = ["a: &a [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]"]
        for level in 1..<10 {
            bomb.append("l\(level): &l\(level) [" + Array(repeating: level == 1 ? "*a" : "*l\(level - 1)", count: 9).joined(separator: ", ") + "]")
        }
        XCTAssertEqual(refused(bomb.joined(separator: "\n")), "r.yaml:5: more than 32 aliases (*name)")
        // Regular expressions, quoted stars and comments are not aliases.
        XCTAssertNil(refused("target_modules: .*proj\nmethod: 'a*b' # *x *y\nlora_r: 8\n" + String(repeating: "seed: 1 # *c\n", count: 40)))
    }
}
