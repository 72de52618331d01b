import Foundation
import RunbookKit
import Testing

/// `--secrets-file`: the formats people keep secrets in (edited on Windows, written for a shell,
/// commented) are read as the values they hold, and a line that is not `NAME=value` is an error
/// that names the line, never its text.
@Suite("secrets file")
struct SecretsFileTests {
    func load(_ text: String) throws(SecretsError) -> [String: String] {
        let path = NSTemporaryDirectory() + "secrets-\(UUID().uuidString).env"
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try SecretStore.load(environment: [:], file: path).values
    }

    @Test("CRLF line endings: each line is its own secret, without the \\r")
    func crlf() throws {
        #expect(try load("AAA=first1\r\nBBB=second2\r\n") == ["aaa": "first1", "bbb": "second2"])
        #expect(try load("ONE=only\r\n") == ["one": "only"])
    }

    @Test("a byte order mark at the start is not part of the first name")
    func byteOrderMark() throws {
        #expect(try load("\u{FEFF}A=1\nB=2\n") == ["a": "1", "b": "2"])
    }

    @Test("comments, quotes, export and blanks")
    func formats() throws {
        let values = try load("""
            # a comment
            export AAA=aval1
            CCC="cval3" # comment
            DDD=dval4 # trailing comment
            EEE='e v # not a comment'
              FFF = pass#word
            GGG=#starts-with-hash
            HHH=
            III=  spaced value  \t
            """)
        #expect(values == ["aaa": "aval1", "ccc": "cval3", "ddd": "dval4", "eee": "e v # not a comment",
                           "fff": "pass#word", "ggg": "#starts-with-hash", "hhh": "", "iii": "spaced value"])
    }

    @Test("a line that is not NAME=value is an error with its line number and without its text", arguments: [
        ("A=1\nnot a pair s3cret\n", 2, "expected NAME=value"),
        ("export A B=s3cret\n", 1, "expected NAME=value, with a NAME of letters, digits and _ that does not start with a digit"),
        ("1abc=s3cret\n", 1, "expected NAME=value, with a NAME of letters, digits and _ that does not start with a digit"),
        ("A=\"s3cret\n", 1, "the value's \" is not closed"),
        ("A='s3cret' trailing\n", 1, "only a # comment may follow the quoted value"),
    ])
    func badLines(_ text: String, _ line: Int, _ message: String) throws {
        #expect {
            _ = try load(text)
        } throws: { error in
            let text = "\(error)"
            return text.hasSuffix(":\(line): \(message)") && !text.contains("s3cret")
        }
    }
}
