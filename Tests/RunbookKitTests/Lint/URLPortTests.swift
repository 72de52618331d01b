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
