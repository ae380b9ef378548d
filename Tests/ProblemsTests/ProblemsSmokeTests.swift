import Testing

@Test func problemsTargetBuilds() { #expect(Bool(true)) }
