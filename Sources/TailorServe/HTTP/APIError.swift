// Errors as OpenAI's API writes them: an HTTP status and {"error": {"message", "type", "param", "code"}}.
import Foundation
import HTTPTypes

/// A request the server refuses, with the status and JSON body an OpenAI client expects.
public struct APIError: Error, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    public var type: String
    public var param: String?
    public var code: String?

    public var description: String { "\(status.code) \(type): \(message)" }

    static func invalid(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
        APIError(status: .badRequest, message: message, type: "invalid_request_error", param: param, code: code)
    }
    static let unauthorized = APIError(status: .unauthorized, message: "missing or wrong API key: send 'Authorization: Bearer <key>'",
                                       type: "authentication_error", param: nil, code: "invalid_api_key")
    static func unknownModel(_ name: String) -> APIError {
        APIError(status: .notFound, message: "The model `\(name)` does not exist.", type: "not_found_error", param: "model",
                 code: "model_not_found")
    }
    static func tooLarge(limit: Int) -> APIError {
        APIError(status: .contentTooLarge, message: "request body larger than \(limit) bytes", type: "invalid_request_error",
                 param: nil, code: "request_too_large")
    }
    static func busy(_ message: String) -> APIError {
        APIError(status: .tooManyRequests, message: message, type: "rate_limit_error", param: nil, code: "queue_full")
    }
    static func unavailable(_ message: String) -> APIError {
        APIError(status: .serviceUnavailable, message: message, type: "service_unavailable", param: nil, code: nil)
    }

    /// The JSON body.
    var body: Data {
        struct Payload: Encodable {
            struct Inner: Encodable { var message: String; var type: String; var param: String?; var code: String? }
            var error: Inner
        }
        let payload = Payload(error: .init(message: message, type: type, param: param, code: code))
        return (try? JSONEncoder().encode(payload)) ?? Data(#"{"error":{"message":"error","type":"server_error"}}"#.utf8)
    }
}
