import Testing

@Test func referenceTargetBuilds() { #expect(Bool(true)) }
