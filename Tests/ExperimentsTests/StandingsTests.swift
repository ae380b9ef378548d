// The standings read off a grid's summary: the best learned model against the linear baseline (at least twice
// its VPT, decided only when censored bounds allow it) and each of our models against its peer.
import Experiments
import Testing

/// Solve rows for seed 1 of problem `problem`: (model, metric, value).
private func rows(_ problem: String, _ entries: [(String, String, Double)]) -> [ErrorRow] {
    entries.map { ErrorRow(experiment: "solve", problem: problem, model: $0.0, seed: 1, metric: $0.1, value: $0.2, unit: "1") }
}

@Suite struct StandingsTests {
    @Test func theBestModelThatDidNotDivergeIsMeasuredAgainstLinear() throws {
        let tables = summaryTables(from: rows("p", [
            ("linear", "vpt", 1), ("linear", "diverged_fraction", 0),
            ("esn", "vpt", 9), ("esn", "diverged_fraction", 0.75),     // longest, but diverged on most rollouts
            ("lstm", "vpt", 2.5), ("lstm", "diverged_fraction", 0.25),
            ("gru", "vpt", 1.5), ("gru", "diverged_fraction", 0),
        ]) + rows("q", [
            ("linear", "vpt", 2), ("gru", "vpt", 3), ("gru", "diverged_fraction", 0),
        ]))
        let table = try #require(Standings.againstLinear(tables))
        #expect(table.rows.count == 2)
        #expect(table.rows[0] == ["p", "1", "lstm 2.5", "2.5×", "yes", "lstm 25%, esn 75%"])
        #expect(table.rows[1] == ["q", "2", "gru 3", "1.5×", "no", "none"])
    }

    @Test func censoredValuesDecideOnlyWhenTheBoundsDo() throws {
        func verdict(_ best: Double, _ bestCensored: Double, _ linear: Double, _ linearCensored: Double) throws -> [String] {
            let tables = summaryTables(from: rows("p", [
                ("linear", "vpt", linear), ("linear", "vpt_censored", linearCensored),
                ("ngrc", "vpt", best), ("ngrc", "vpt_censored", bestCensored),
            ]))
            let row = try #require(Standings.againstLinear(tables)?.rows.first)
            return [row[3], row[4]]
        }
        #expect(try verdict(10, 1, 4, 0) == ["≥ 2.5×", "yes"])        // a lower bound already past 2×
        #expect(try verdict(6, 1, 4, 0) == ["≥ 1.5×", "undecided"])   // might reach 2× in a longer window
        #expect(try verdict(6, 0, 4, 1) == ["≤ 1.5×", "no"])          // linear is at least 4: the ratio at most 1.5
        #expect(try verdict(10, 0, 4, 1) == ["≤ 2.5×", "undecided"])
        #expect(try verdict(10, 1, 10, 1) == ["–", "undecided"])      // both valid to the end of the window
    }

    @Test func everyLearnedModelDivergedMeansNo() throws {
        let tables = summaryTables(from: rows("p", [
            ("linear", "vpt", 1), ("esn", "vpt", 5), ("esn", "diverged_fraction", 1),
        ]))
        let row = try #require(Standings.againstLinear(tables)?.rows.first)
        #expect(row[2] == "none (all diverged)" && row[4] == "no")
    }

    @Test func peersAreMatchedToTheirModels() throws {
        #expect(Standings.peerModel(of: "torch-lstm") == "lstm")
        #expect(Standings.peerModel(of: "reservoirpy-esn") == "esn")
        #expect(Standings.peerModel(of: "reservoirpy-nvar") == "ngrc")
        #expect(Standings.peerModel(of: "lstm") == nil && Standings.peerModel(of: "torch-transformer") == nil)
        let tables = summaryTables(from: rows("lorenz", [
            ("esn", "vpt", 8), ("esn", "diverged_fraction", 0), ("reservoirpy-esn", "vpt", 7.9),
            ("reservoirpy-esn", "diverged_fraction", 0),
            ("lstm", "vpt", 3), ("lstm", "diverged_fraction", 0.5), ("torch-lstm", "vpt", 2), ("torch-lstm", "diverged_fraction", 0),
            ("gru", "vpt", 1), ("torch-rnn", "vpt", 1),   // torch-rnn has no rnn column to match
        ]))
        let table = try #require(Standings.againstPeers(tables))
        #expect(table.rows.count == 2)
        #expect(table.rows[0] == ["lorenz", "esn", "8", "reservoirpy-esn", "7.9", "1.01×", "yes"])
        // Longer, but it diverged on half of its rollouts and the peer did not.
        #expect(table.rows[1] == ["lorenz", "lstm", "3 (diverged)", "torch-lstm", "2", "1.5×", "no"])
    }
}
