// URLCheck reads a URL's port from its text: a port past Int.max or 65535 is no port to
// URLComponents, yet the URL parses and a client would try it.

@testable import RunbookKit
import Testing

@Suite("URL ports")
struct URLPortTests {
    @Test("the port is read after userinfo and an IPv6 literal, and only from the authority")
    func portIsReadFromTheAuthority() {
        let cases: [(String, String?)] = [
            ("http://h:8080/x", "8080"), ("http://user:pa:ss@h:99999/", "99999"), ("http://u:p@h/", nil),
            ("http://[::1]:9090/metrics", "9090"), ("http://[::1]/", nil), ("http://[::1", nil),
            ("http://h:/", ""), ("http://h:80a/", nil), ("http://h/a:1", nil), ("http://h?q=a:1", nil),
            ("http://ünï.example:70000#f:1", "70000"), ("h:8080", nil), ("", nil), ("http://", nil),
        ]
        for (url, digits) in cases {
            #expect(URLCheck.portDigits(url).map(String.init) == digits, "\(url)")
        }
        #expect(URLCheck.portProblem("http://ünï.example:70000/") == "port 70000 is not a TCP port (1-65535)")
        #expect(URLCheck.portProblem("http://h:/") == nil && URLCheck.portProblem("http://h:443/") == nil)
    }
}

/// The masker (plans, docs, HTTP labels) and lint's `secret-literal` find a URL's password by
/// one rule, so lint warns exactly about what the masker would have to hide.
@Suite("URL passwords")
struct URLPasswordTests {
    @Test("the masker hides what lint reports, and leaves an @ in a path alone")
    func maskerAndLintAgree() {
        let cases: [(url: String, shown: String)] = [
            ("postgres://app:hunter2@db:5432/app", "postgres://app:***@db:5432/app"),
            ("https://u:p@ss@h/x", "https://u:***@h/x"),
            ("http://u:pa/ss@h/", "http://u:***@h/"),
            ("https://h:8443/users/bob@example.com", "https://h:8443/users/bob@example.com"),
            ("http://h/a:b@c", "http://h/a:b@c"),
            ("http://bob@h:80/", "http://bob@h:80/"),
            ("http://h/?next=u:p@x", "http://h/?next=u:p@x"),
            ("http://ü:pässwörd@h/", "http://ü:***@h/"),
            ("not a url u:p@h", "not a url u:p@h"),
        ]
        for (url, shown) in cases {
            #expect(SecretMasker.hidingURLPassword(url) == shown, "\(url)")
            #expect(ActionArgumentsRule.hasPassword(url) == (url != shown), "\(url)")
        }
        // An empty password hides nothing worth a warning.
        #expect(!ActionArgumentsRule.hasPassword("http://u:@h/"))
        #expect(ActionArgumentsRule.hasPassword("host=db PASSWORD=x"))
    }
}
