import Testing
@testable import RunbookKit

/// SARIF artifact URIs: relative paths stay relative, absolute ones keep one slash.
@Suite("SARIF URIs")
struct SARIFURITests {
    @Test("paths become URI references", arguments: [
        ("runbooks.d/a.yaml", "runbooks.d/a.yaml"),
        ("./a.yaml", "a.yaml"), (".//w2.yaml", "w2.yaml"), ("./////x.yaml", "x.yaml"), ("././a.yaml", "a.yaml"),
        ("/abs/a.yaml", "/abs/a.yaml"), ("//host/a.yaml", "/host/a.yaml"),
        ("c:x.yaml", "./c:x.yaml"), (".//c:x.yaml", "./c:x.yaml"),
        ("we ird#1?%é.yaml", "we%20ird%231%3F%25%C3%A9.yaml"),
    ])
    func uri(path: String, expected: String) {
        #expect(DiagnosticRenderer.uri(path) == expected)
    }
}
