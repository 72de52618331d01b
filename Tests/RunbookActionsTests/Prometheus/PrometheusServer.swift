// A real Prometheus for tests (Debian's `prometheus` package): a temporary TSDB backfilled with
// `promtool tsdb create-blocks-from openmetrics`, optionally scraping a test exporter, listening
// on a free 127.0.0.1 port. Started and stopped by each test that uses it.
import Foundation
import RunbookActions
import RunbookKit

final class PrometheusServer: Sendable {
    /// The `prometheus` binary, when installed.
    static let binary = ExternalTools.find("prometheus")
    /// The `promtool` binary, when installed (same package).
    static let promtool = ExternalTools.find("promtool")
    /// Run the real-server tests when installed, and always in CI (where a missing binary must fail).
    static let shouldRun = (binary != nil && promtool != nil) || ExternalTools.inCI
    static let skipMessage = "prometheus is not installed (apt-get install prometheus); skipped outside CI"

    let url: String
    private let process: ServerProcess
    private let directory: TemporaryDirectory

    private init(url: String, process: ServerProcess, directory: TemporaryDirectory) {
        self.url = url
        self.process = process
        self.directory = directory
    }

    /// A series of one metric with constant `value` (OpenMetrics text: `NaN`, `+Inf` allowed).
    struct Series {
        var metric: String
        var labels: [String: String]
        var value: String
    }

    /// Backfills `series` with a sample every 30 s from now-10m to now-30s, optionally scrapes
    /// `scrapeTarget` (host:port) every second, starts the server and waits until it is ready.
    static func start(backfill series: [Series], scrapeTarget: String? = nil) async throws -> PrometheusServer {
        guard let binary, let promtool else {
            throw ExternalServerError("prometheus/promtool not found on PATH: apt-get install prometheus")
        }
        let directory = try TemporaryDirectory("runbook-prometheus")
        do {
            let data = directory.path + "/data"
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
            if !series.isEmpty {
                let file = try directory.write("backfill.om", openMetrics(series, now: Date()))
                let run = try await runProgram(promtool, ["tsdb", "create-blocks-from", "openmetrics", file, data])
                guard run.status == 0 else {
                    throw ExternalServerError("promtool create-blocks-from failed (\(run.status)): \(run.output)")
                }
            }
            var config = "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            if let scrapeTarget {
                config += "scrape_configs:\n  - job_name: exporter\n    static_configs:\n      - targets: ['\(scrapeTarget)']\n"
            }
            let configPath = try directory.write("prometheus.yml", config)
            let port = try ExternalTools.freePort()
            let process = try ServerProcess(binary, [
                "--config.file=\(configPath)", "--storage.tsdb.path=\(data)",
                "--web.listen-address=127.0.0.1:\(port)", "--storage.tsdb.retention.time=1d",
                "--log.level=warn",
            ], logPath: directory.path + "/prometheus.log")
            let server = PrometheusServer(url: "http://127.0.0.1:\(port)", process: process, directory: directory)
            do {
                try await server.waitUntilReady()
            } catch {
                await server.stop()
                throw error
            }
            return server
        } catch {
            directory.remove()
            throw error
        }
    }

    /// Polls `/-/ready` (up to 30 s).
    private func waitUntilReady() async throws {
        let transport = AsyncHTTPTransport()
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .seconds(30) {
            guard process.isRunning else {
                throw ExternalServerError("prometheus exited at start:\n\(process.logTail)")
            }
            let request = HTTPTransportRequest(method: "GET", url: url + "/-/ready", timeout: 2, maxBodyBytes: 1024)
            if let response = try? await transport.send(request), response.status == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ExternalServerError("prometheus not ready within 30 s:\n\(process.logTail)")
    }

    /// Stops the server and removes its data.
    func stop() async {
        await process.stop()
        directory.remove()
    }

    /// OpenMetrics text: each metric family once, each series' samples in time order, `# EOF` last.
    static func openMetrics(_ series: [Series], now: Date) -> String {
        let end = Int(now.timeIntervalSince1970) - 30
        let times = stride(from: end - 570, through: end, by: 30)
        var text = ""
        var families: [String] = []
        for s in series where !families.contains(s.metric) { families.append(s.metric) }
        for family in families {
            text += "# TYPE \(family) gauge\n"
            for s in series where s.metric == family {
                let labels = s.labels.keys.sorted().map { "\($0)=\"\(s.labels[$0]!)\"" }.joined(separator: ",")
                let name = labels.isEmpty ? family : "\(family){\(labels)}"
                for t in times { text += "\(name) \(s.value) \(t)\n" }
            }
        }
        return text + "# EOF\n"
    }
}

/// Starts a Prometheus, runs `body`, and stops it even when `body` throws.
func withPrometheus<T>(backfill series: [PrometheusServer.Series], scrapeTarget: String? = nil,
                       _ body: (PrometheusServer) async throws -> T) async throws -> T {
    let server = try await PrometheusServer.start(backfill: series, scrapeTarget: scrapeTarget)
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}
