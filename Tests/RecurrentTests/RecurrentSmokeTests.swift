import Testing

@Test func recurrentTargetBuilds() { #expect(Bool(true)) }
