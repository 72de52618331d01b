import Dispatch

/// Hands what the YAML front end streams to another sink on a second thread, in order, so
/// that parsing and the sink's work (lowering and checking steps) overlap on two cores.
///
/// Items go over in batches; at most `maxBatchesInFlight` batches wait at a time, so the
/// parser never runs far ahead of the sink (memory stays bounded). The wrapped sink is only
/// touched on the pipeline's serial queue until `finish()` returns; after that, the caller may
/// read it again.
final class PipelinedListSink: YAMLListItemSink, @unchecked Sendable {
    let streamedKeys: [String]
    private let target: any YAMLListItemSink
    private let queue = DispatchQueue(label: "runbook.yaml.list-items")
    private let slots: DispatchSemaphore
    private let batchSize: Int
    // Producer side (the parsing thread) only.
    private var batch: [YAMLNode] = []
    private var batchKey = ""

    init(_ target: any YAMLListItemSink, batchSize: Int = 64, maxBatchesInFlight: Int = 8) {
        self.target = target
        streamedKeys = target.streamedKeys
        self.batchSize = batchSize
        slots = DispatchSemaphore(value: maxBatchesInFlight)
    }

    func listStarted(_ key: String, precedingPairs: [YAMLNode.Pair]) {
        flush()
        send { target in target.listStarted(key, precedingPairs: precedingPairs) }
    }

    func item(_ node: consuming YAMLNode, ofList key: String) {
        if batch.isEmpty { batch.reserveCapacity(batchSize) }
        batchKey = key
        batch.append(node)
        if batch.count == batchSize { flush() }
    }

    func listEnded(_ key: String, at location: SourceLocation, count: Int) {
        flush()
        send { target in target.listEnded(key, at: location, count: count) }
    }

    /// Waits until the wrapped sink has taken everything sent so far.
    func finish() {
        flush()
        queue.sync {}
    }

    private func flush() {
        guard !batch.isEmpty else { return }
        let items = batch
        let key = batchKey
        batch = []
        send { target in
            for item in items { target.item(item, ofList: key) }
        }
    }

    private func send(_ work: @escaping (any YAMLListItemSink) -> Void) {
        slots.wait()
        nonisolated(unsafe) let target = target
        nonisolated(unsafe) let work = work
        queue.async { [slots] in
            work(target)
            slots.signal()
        }
    }
}
