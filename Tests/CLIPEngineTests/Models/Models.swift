import Testing

/// The model resolution and download tests (`swift test --filter Models`).
@Suite enum Models {}
