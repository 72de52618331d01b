import Dispatch
import Synchronization

/// A list-item sink whose per-item work splits in two: a part that depends only on the item
/// (`prepare`, which may run on any thread) and a part that must see the items in order
/// (`accept`, on one thread). A runbook's `StepStream` lowers a step in `prepare` and checks it
/// against the steps before it in `accept`.
public protocol PreparingListItemSink: YAMLListItemSink {
    associatedtype Prepared
    /// The order-independent work on one item. Called on any one thread at a time per item;
    /// must not touch state that `accept` changes.
    func prepare(_ node: consuming YAMLNode, ofList key: String) -> Prepared
    /// The in-order rest of the work on an item `prepare` was given.
    func accept(_ prepared: consuming Prepared, ofList key: String)
}

extension PreparingListItemSink {
    public func item(_ node: consuming YAMLNode, ofList key: String) {
        accept(prepare(node, ofList: key), ofList: key)
    }
}

/// Which thread prepares a batch of items (`PipelinedListSink`).
enum PipelineBalance: Sendable {
    /// The parsing thread prepares a batch itself when the other thread is behind (at least
    /// `behind` batches waiting), so that both cores stay busy whichever side is slower.
    case adaptive(behind: Int)
    /// Every other batch on each side (tests: both paths taken on any input).
    case alternate
    /// Always the second thread (the split before the balance existed).
    case consumerOnly
}

/// Hands what the YAML front end streams to another sink on a second thread, in order, so
/// that parsing and the sink's work (lowering and checking steps) overlap on two cores.
///
/// Items go over in batches; at most `maxBatchesInFlight` batches wait at a time, so the
/// parser never runs far ahead of the sink (memory stays bounded). Lowering a step costs more
/// than parsing it, so the second thread would fall behind with the parser idle: when it is
/// behind, the parsing thread prepares (lowers) a batch itself before handing it over, and the
/// second thread only accepts (checks) it. Accepting is always in document order on the second
/// thread, so the findings and their order are those of one thread.
///
/// The wrapped sink is only touched on the pipeline's serial queue (except `prepare`) until
/// `finish()` returns; after that, the caller may read it again.
final class PipelinedListSink<Target: PreparingListItemSink & SendableMetatype>: YAMLListItemSink, @unchecked Sendable {
    let streamedKeys: [String]
    private let target: Target
    private let queue = DispatchQueue(label: "runbook.yaml.list-items")
    private let slots: DispatchSemaphore
    private let batchSize: Int
    private let balance: PipelineBalance
    /// Batches handed over and not yet done.
    private let inFlight = Atomic<Int>(0)

    private enum Pending {
        case node(YAMLNode)
        case prepared(Target.Prepared)
    }

    // Producer side (the parsing thread) only.
    private var batch: [Pending] = []
    private var batchKey = ""
    /// Whether the batch being filled is prepared here.
    private var preparesHere = false
    private var batchesSent = 0

    init(_ target: Target, batchSize: Int = 64, maxBatchesInFlight: Int = 8,
         balance: PipelineBalance = .adaptive(behind: 3)) {
        self.target = target
        streamedKeys = target.streamedKeys
        self.batchSize = batchSize
        self.balance = balance
        slots = DispatchSemaphore(value: maxBatchesInFlight)
    }

    func listStarted(_ key: String, precedingPairs: [YAMLNode.Pair]) {
        flush()
        send { target in target.listStarted(key, precedingPairs: precedingPairs) }
    }

    func item(_ node: consuming YAMLNode, ofList key: String) {
        if batch.isEmpty {
            batch.reserveCapacity(batchSize)
            switch balance {
            case .adaptive(let behind): preparesHere = inFlight.load(ordering: .relaxed) >= behind
            case .alternate: preparesHere = batchesSent % 2 == 0
            case .consumerOnly: preparesHere = false
            }
        }
        batchKey = key
        batch.append(preparesHere ? .prepared(target.prepare(node, ofList: key)) : .node(node))
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
        batchesSent += 1
        send { target in
            for item in items {
                switch item {
                case .node(let node): target.item(node, ofList: key)
                case .prepared(let prepared): target.accept(prepared, ofList: key)
                }
            }
        }
    }

    private func send(_ work: @escaping (Target) -> Void) {
        slots.wait()
        inFlight.add(1, ordering: .relaxed)
        nonisolated(unsafe) let target = target
        nonisolated(unsafe) let work = work
        queue.async { [slots, self] in
            work(target)
            inFlight.subtract(1, ordering: .relaxed)
            slots.signal()
        }
    }
}
