// Fuzzer findings kept fixed: a field written by CSV.line reads back as the same field, whatever its Unicode.
import Experiments
import Testing

@Suite struct CSVRoundTripTests {
    /// A comma or quote followed by a combining mark is one Swift Character that is neither ',' nor '"', and "\r\n"
    /// is one Character; each must still be quoted, since the reader splits by Unicode scalar.
    @Test(arguments: ["x,\u{301}y", "R\"\u{7F0}--", "\r\n'", "plain", "a,b", "say \"hi\"", "line\nbreak", "é,́"])
    func fieldsSurviveAWriteAndARead(field: String) throws {
        let text = CSV.line(["head", "er"]) + CSV.line([field, "2"])
        let records = try CSV.parse(text)
        #expect(records.count == 2, "\(records)")
        #expect(records.last == [field, "2"], "\(records)")
    }
}
