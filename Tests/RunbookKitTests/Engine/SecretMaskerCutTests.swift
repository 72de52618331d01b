import RunbookKit
import Testing

/// Masking replaces whole secrets only, so text is masked before it is shortened, and a cut of
/// text that stays unmasked (an output) moves off any secret it would split.
@Suite("SecretMasker: cuts never split a secret")
struct SecretMaskerCutTests {
    let masker = SecretMasker(secrets: ["Hunter2LongPassword!", "ab\"cd"])

    @Test("masking matches bytes: a secret before a combining mark, at either end, repeated, or inside a longer one")
    func maskMatchesBytes() {
        let masker = SecretMasker(secrets: ["Hunter2pw", "pw9", "Sécret!"])
        #expect(masker.mask("x Hunter2pw\u{301} y") == "x ***\u{301} y")
        #expect(masker.mask("Hunter2pw") == "***")
        #expect(masker.mask("Hunter2pwHunter2pw-pw9") == "******-***")
        #expect(masker.mask("a Sécret! b") == "a *** b")
        #expect(masker.mask("nothing here") == "nothing here")
        #expect(masker.mask("") == "")
    }

    @Test func maskedPrefixMasksFirst() {
        let text = String(repeating: "E", count: 190) + " Hunter2LongPassword! end"
        #expect(masker.maskedPrefix(text, characters: 200) == String(repeating: "E", count: 190) + " *** end")
        let long = String(repeating: "E", count: 199) + "Hunter2LongPassword!"
        #expect(masker.maskedPrefix(long, characters: 200) == String(repeating: "E", count: 199) + "*…")
        #expect(masker.maskedPrefix("short", characters: 200) == "short")
        #expect(SecretMasker.none.maskedPrefix("abcdef", characters: 3) == "abc…")
    }

    @Test("a first line is taken after masking: the first line of a multi-line secret is no secret the masker knows")
    func firstLineAfterMasking() {
        let pem = SecretMasker(secrets: ["-----BEGIN KEY-----\nMIIEsecretbody\n-----END KEY-----"])
        let error = "bad certificate -----BEGIN KEY-----\nMIIEsecretbody\n-----END KEY----- rejected\nsecond line"
        #expect(pem.maskedPrefix(error, characters: 200, firstLine: true) == "bad certificate *** rejected")
        #expect(pem.maskedPrefix("one\ntwo", characters: 2, firstLine: true) == "on…")
        #expect(pem.maskedPrefix("no newline", characters: 200, firstLine: true) == "no newline")
    }

    @Test func aHeadCutStopsBeforeASecretThatCrossesIt() {
        let bytes = Array("0123456789Hunter2LongPassword!tail".utf8)
        #expect(masker.safePrefixLength(bytes, limit: 15) == 10, "inside the secret: before it")
        #expect(masker.safePrefixLength(bytes, limit: 10) == 10, "right before it")
        #expect(masker.safePrefixLength(bytes, limit: 30) == 30, "right after it")
        #expect(masker.safePrefixLength(bytes, limit: 31) == 31)
        #expect(masker.safePrefixLength(bytes, limit: 500) == bytes.count)
        #expect(SecretMasker.none.safePrefixLength(bytes, limit: 15) == 15)
    }

    @Test func aTailCutStartsAfterASecretThatCrossesIt() {
        let bytes = Array("connecting with Hunter2LongPassword!\n".utf8)
        // The last 12 bytes start inside the password: the kept tail starts after it.
        #expect(masker.safeSuffixStart(bytes, limit: 12) == bytes.count - 1)
        #expect(masker.safeSuffixStart(bytes, limit: 21) == 16, "the whole secret fits: kept whole, masked later")
        #expect(masker.safeSuffixStart(bytes, limit: 500) == 0)
        // Two secrets back to back: past the first, the second is kept whole; a cut inside the
        // second moves past it.
        let twice = Array("xHunter2LongPassword!Hunter2LongPassword!y".utf8)
        #expect(masker.safeSuffixStart(twice, limit: 25) == 21)
        #expect(masker.safeSuffixStart(twice, limit: 10) == twice.count - 1)
        // Overlapping occurrences: past one, the cut lands inside the next, and moves again.
        let overlapping = SecretMasker(secrets: ["abcab"])
        #expect(overlapping.safeSuffixStart(Array("abcabcab!".utf8), limit: 5) == 8)
    }

    @Test func theJSONEscapedFormCountsToo() {
        // `ab"cd` as the journal or to_json writes it: `ab\"cd`.
        let bytes = Array(#"{"v":"ab\"cd"}"#.utf8)
        #expect(masker.safeSuffixStart(bytes, limit: 6) == bytes.count - 2)
        #expect(masker.longestSecretBytes == "Hunter2LongPassword!".utf8.count)
        #expect(SecretMasker.none.longestSecretBytes == 0)
        #expect(masker.adding(["a-much-longer-extra-secret"]).longestSecretBytes == 26)
    }
}
