import Testing

@Test func experimentsTargetBuilds() { #expect(Bool(true)) }
