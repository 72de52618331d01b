// Where lint's time goes, stage by stage, on one thread. Not part of the SwiftPM package:
// bench/stages.sh compiles it together with RunbookKit's sources into one optimised binary,
// so it can time internal stages (the event reader) that the `runbook` binary cannot show.
//
// Each stage includes the ones above it; the difference between two rows is what one stage
// adds. Every stage reads the same bytes from memory (the files are read once, up front).

import CYAML

#if canImport(Glibc)
import Glibc
#endif

@main
struct Stages {
    static func main() {
        let args = Array(CommandLine.arguments.dropFirst())
        guard !args.isEmpty else {
            print("usage: stages [--runs N] [--only STAGE] PATH...   (a file, or a directory of *.yaml)")
            exit(2)
        }
        var runs = 5
        var only: String?
        var paths: [String] = []
        var i = 0
        while i < args.count {
            if args[i] == "--runs", i + 1 < args.count, let n = Int(args[i + 1]) { runs = n; i += 2; continue }
            // One stage and the floor only, e.g. under `perf record`.
            if args[i] == "--only", i + 1 < args.count { only = args[i + 1]; i += 2; continue }
            paths.append(args[i]); i += 1
        }
        let files: [String]
        do { files = try Linter.expand(paths) } catch { print("error: \(error.message)"); exit(2) }
        let inputs: [(String, [UInt8])] = files.map { path in
            guard case .success(let bytes) = YAMLParser.readFile(path, limits: .default) else {
                print("error: cannot read \(path)"); exit(2)
            }
            return (path, bytes)
        }
        let megabytes = Double(inputs.reduce(0) { $0 + $1.1.count }) / 1_000_000
        print("\(inputs.count) file(s), \(String(format: "%.1f", megabytes)) MB; best of \(runs) round(s); one thread except the last row")
        print("| stage | what it adds | ms | × floor |")
        print("|---|---|---:|---:|")

        var linter = stagesLinter
        linter.summarizesSteps = true
        linter.pipelineThreshold = Int.max  // one thread: these are CPU figures
        var pipelined = stagesLinter
        pipelined.summarizesSteps = true

        let stages: [(String, String, ([UInt8], String) -> Int)] = [
            ("floor", "libyaml's yaml_parser_parse over the bytes, nothing else", { bytes, _ in floor(bytes) }),
            ("events", "+ byte screening, line table, events as Swift values with positions", { bytes, file in
                events(bytes, file: file)
            }),
            ("tree", "+ YAMLNode trees (anchors, merges, duplicate keys), each step's dropped when complete", { bytes, file in
                YAMLParser.parse(bytes: bytes, file: file, listSink: DroppingSink()).root == nil ? 0 : 1
            }),
            ("lower", "+ lowering to the AST, steps streamed (templates and expressions parsed)", { bytes, file in
                let source = SourceText(bytes: bytes)
                let stream = RunbookLowering.StepStream(source: source)
                stream.process = { step, _ in step.summary(keeping: [:]) }
                guard let root = YAMLParser.parse(bytes: bytes, file: file, listSink: stream).root else { return 0 }
                return RunbookLowering.lower(root, source: source, streamed: stream).diagnostics.count
            }),
            ("lint", "+ every rule, suppressions: `runbook lint` on one thread", { bytes, file in
                linter.lint(bytes: bytes, file: file).diagnostics.count
            }),
            ("lint, 2 threads", "`runbook lint` as it runs a file of 1 MB or more: steps lowered and checked on a second thread (wall time, two cores)", { bytes, file in
                pipelined.lint(bytes: bytes, file: file).diagnostics.count
            }),
        ]
        // Round robin: every round times each stage once, so a burst of load from elsewhere on
        // the machine hits all stages alike instead of one; the best round of each counts.
        let chosen = stages.filter { only == nil || $0.0 == "floor" || $0.0 == only }
        var best = [Double](repeating: .infinity, count: chosen.count)
        for _ in 0..<runs {
            for (n, stage) in chosen.enumerated() {
                let start = now()
                var sink = 0
                for (path, bytes) in inputs { sink &+= stage.2(bytes, path) }
                blackHole(sink)
                best[n] = min(best[n], now() - start)
            }
        }
        for (n, (name, what, _)) in chosen.enumerated() {
            print("| \(name) | \(what) | \(String(format: "%.0f", best[n])) | \(String(format: "%.1f", best[n] / best[0])) |")
        }
    }

    /// Milliseconds on the monotonic clock.
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) * 1000 + Double(ts.tv_nsec) / 1_000_000
    }

    @inline(never) static func blackHole(_ value: Int) {
        if value == -42 { print("") }
    }

    /// What bench/yaml_floor.c does, from memory instead of a FILE.
    static func floor(_ bytes: [UInt8]) -> Int {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) != 0 else { return 0 }
        defer { yaml_parser_delete(&parser) }
        var count = 0
        bytes.withUnsafeBufferPointer { buffer in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var event = yaml_event_t()
            while yaml_parser_parse(&parser, &event) != 0 {
                count += 1
                let done = event.type == YAML_STREAM_END_EVENT
                yaml_event_delete(&event)
                if done { break }
            }
        }
        return count
    }

    /// Screening, the line table and every event converted by the front end's reader.
    static func events(_ bytes: [UInt8], file: String) -> Int {
        let text = SourceText(bytes: bytes)
        let screened = InputScreening.screen(bytes, file: file, limits: .default)
        guard screened.fatal == nil else { return 0 }
        let reader = LibYAMLEventReader(bytes: bytes[screened.bodyStart...], byteBase: screened.bodyStart,
                                        file: file, limits: .default, endOfInput: screened.endOfInput)
        var count = text.lineCount
        while let event = try? reader.next() {
            count += 1
            if case .streamEnd = event.kind { break }
        }
        return count
    }
}

/// The linter over the built-in declarations, as `runbook lint` builds it.
private let stagesLinter = Linter(catalog: ActionCatalog(
    HTTPActions.all + PrometheusActions.all + KubernetesActions.all + CircuitBreakerActions.all
        + FeatureFlagActions.all + CheckpointActions.all + ProcessActions.all + NotifyActions.all
        + IncidentActions.all + CoreActions.all + DatabaseActions.all + NetworkActions.all))

/// Takes the step lists' items as the lint does, and drops them: the tree stage then builds
/// what the lowering stage reads, no more.
private final class DroppingSink: YAMLListItemSink {
    let streamedKeys = ["steps", "rollback"]
    func listStarted(_ key: String, precedingPairs: [YAMLNode.Pair]) {}
    func item(_ node: consuming YAMLNode, ofList key: String) {}
    func listEnded(_ key: String, at location: SourceLocation, count: Int) {}
}
