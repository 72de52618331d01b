// `exec`: run a program from argv (no shell) or a command line through /bin/sh, and judge its exit
// code. The process handling itself is the launcher's; this file turns arguments into a spec and an
// outcome into outputs and messages.
import Foundation
import RunbookKit

/// Runs `exec` through a `ProgramLauncher`.
public struct ExecAction: Action {
    /// The declaration this implements.
    public let descriptor = ProcessActions.exec
    private let launcher: any ProgramLauncher

    /// The action on the given launcher (default: posix_spawn).
    public init(launcher: any ProgramLauncher = POSIXProgramLauncher()) {
        self.launcher = launcher
    }

    /// Runs the program (or starts it, with `detach`) and judges its exit code. Failures keep their outputs.
    public func run(_ invocation: ActionInvocation) async throws -> ActionResult {
        let masker = invocation.context.masker
        let (spec, label) = try Self.spec(invocation)
        let expected = try Self.expectedExitCodes(invocation)

        if invocation.bool("detach") == true {
            let started: DetachedStart
            let told = invocation.context.processStarted
            do { started = try await launcher.start(spec, started: { told($0, true) }) } catch let error as LaunchError {
                throw ActionFailure(masker.mask("\(label): \(error.description)"))
            }
            var outputs: [String: Value] = ["exit_code": .null, "stdout": .string(""), "stderr": .string(""),
                                            "pid": .int(Int(started.pid))]
            if let code = started.earlyExitCode {
                outputs["exit_code"] = .int(Int(code))
                if !expected.contains(Int(code)) {
                    throw ActionFailure(masker.mask("\(label): exited at once with code \(code)"), outputs: outputs)
                }
                // A launcher that forks the daemon and exits: its pid names nothing any more, and a
                // pidfile with it could later name an unrelated process that got the number.
                invocation.context.emit("warning", masker.mask(
                    "\(label) exited at once with code \(code): pid \(started.pid) is gone, so the 'pid' output names no running "
                    + "process" + ((invocation.string("pidfile") ?? "").isEmpty ? "" : " and no pidfile was written")
                    + "; detach the long-running program itself, not a launcher that forks it"))
                return ActionResult(outputs: outputs, summary: "exited at once with code \(code)")
            }
            if let pidfile = invocation.string("pidfile"), !pidfile.isEmpty {
                do {
                    try "\(started.pid)\n".write(toFile: pidfile, atomically: true, encoding: .utf8)
                } catch {
                    throw ActionFailure(masker.mask("\(label): started as pid \(started.pid) but cannot write pidfile "
                                                    + "\(pidfile): \(error.localizedDescription)"), outputs: outputs)
                }
            }
            return ActionResult(outputs: outputs, summary: "started pid \(started.pid)")
        }

        let timeout = Self.effectiveTimeout(invocation)
        let outcome: ProgramOutcome
        let told = invocation.context.processStarted
        do { outcome = try await launcher.run(spec, timeout: timeout, started: { told($0, false) }) } catch let error as LaunchError {
            throw ActionFailure(masker.mask("\(label): \(error.description)"))
        }
        // The launcher kept a margin beyond max_output_bytes (see `spec`): cut here, past any
        // secret that crosses the cut, so no piece of one is left that masking cannot recognise.
        let cap = Self.outputCap(invocation)
        let stdout = outcome.stdout.keepingLast(cap, masker: masker)
        let stderr = outcome.stderr.keepingLast(cap, masker: masker)
        let outputs: [String: Value] = [
            "exit_code": .int(Int(outcome.exitCode)), "stdout": .string(stdout.text),
            "stderr": .string(stderr.text), "pid": .int(Int(outcome.pid)),
        ]
        let lastLine = stderr.lastLine(masking: masker).map { ": \($0)" } ?? ""
        if !outcome.stoppedLeftovers.isEmpty {
            // `nohup daemon &` in a restart script: the step succeeds, and the daemon is gone.
            let count = outcome.stoppedLeftovers.count
            invocation.context.emit("warning", masker.mask(
                "\(label) left \(count == 10 ? "10 or more processes" : count == 1 ? "a process" : "\(count) processes") running "
                + "in the background, stopped when the step ended: \(outcome.stoppedLeftovers.joined(separator: ", ")); "
                + "exec stops what a command leaves in its process group; a program meant to keep running needs 'detach: true'"))
        }
        if outcome.timedOut {
            throw ActionFailure(masker.mask("\(label): timed out after \(RunbookDuration(seconds: timeout)); "
                                            + "its process group was stopped"), outputs: outputs)
        }
        guard expected.contains(Int(outcome.exitCode)) else {
            let how = outcome.signal.map { "killed by signal \($0) (exit code \(outcome.exitCode))" }
                ?? "exit code \(outcome.exitCode)"
            let want = expected == [0] ? "" : " (expected \(expected.map(String.init).joined(separator: " or ")))"
            throw ActionFailure(masker.mask("\(label): \(how)\(want)\(lastLine)"), outputs: outputs)
        }
        return ActionResult(outputs: outputs, summary: "exit code \(outcome.exitCode)")
    }

    /// The spec to run and the label messages use ("'kubectl'" or "sh -c 'cmd…'").
    static func spec(_ invocation: ActionInvocation) throws -> (ProgramSpec, String) {
        try checkSystemText(invocation, ["argv", "command", "cwd", "env", "pidfile"], action: "exec")
        var environment = invocation.context.environment
        if case .map(let extra)? = invocation.arguments["env"] {
            for (name, value) in extra { environment[name] = value.interpolationText }
        }
        var cwd: String?
        if let dir = invocation.string("cwd"), !dir.isEmpty {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ActionFailure(invocation.context.masker.mask("exec: working directory \(dir) does not exist"))
            }
            cwd = dir
        }
        // Kept with a margin of the longest secret: `run` cuts the tail to max_output_bytes where
        // no secret is cut in two, which it can only see when the secret lies whole in the tail.
        let cap = outputCap(invocation)
        let margin = invocation.context.masker.longestSecretBytes
        let kept = cap > Int.max - margin ? Int.max : cap + margin
        let argvGiven: [String]? = {
            guard case .list(let items)? = invocation.arguments["argv"] else { return nil }
            return items.map(\.interpolationText)
        }()
        let command = invocation.string("command")

        if invocation.bool("shell") == true {
            guard let command, !command.isEmpty else {
                throw ActionFailure("exec: 'shell: true' needs 'command'")
            }
            if argvGiven != nil { throw ActionFailure("exec: give either 'argv' or 'command' with 'shell: true', not both") }
            let shown = invocation.context.masker.maskedPrefix(command, characters: 60)
            let spec = ProgramSpec(executable: "/bin/sh", arguments: ["/bin/sh", "-c", command], environment: environment,
                                   workingDirectory: cwd, maxOutputBytes: kept)
            return (spec, "sh -c '\(shown)'")
        }
        if command != nil {
            throw ActionFailure("exec: 'command' runs through a shell: add 'shell: true', or give 'argv'")
        }
        guard let argv = argvGiven, let program = argv.first, !program.isEmpty else {
            throw ActionFailure("exec: give 'argv' (a program and its arguments), or 'command' with 'shell: true'")
        }
        let label = "'\(program)'"
        guard let executable = resolve(program, path: environment["PATH"], cwd: cwd) else {
            throw ActionFailure(invocation.context.masker.mask("\(label): command not found"))
        }
        return (ProgramSpec(executable: executable, arguments: argv, environment: environment, workingDirectory: cwd,
                            maxOutputBytes: kept), label)
    }

    /// `max_output_bytes`: bytes of stdout and of stderr kept (the tail).
    static func outputCap(_ invocation: ActionInvocation) -> Int {
        max(0, invocation.int("max_output_bytes") ?? 65536)
    }

    /// Text that reaches the OS as C strings with a NUL inside (or an environment name with `=`)
    /// would be cut there, and another command than the plan's would run: the step fails instead.
    static func checkSystemText(_ invocation: ActionInvocation, _ names: [String], action: String) throws {
        for name in names {
            guard let value = invocation.arguments[name],
                  let problem = ParameterConstraint.systemTextProblem(in: value) else { continue }
            throw ActionFailure(invocation.context.masker.mask(
                "parameter '\(name)' of '\(action)': \(problem); the operating system would cut the text there"))
        }
    }

    /// A program name looked up in PATH (the child's, not the runner's); a name with a slash as is.
    static func resolve(_ program: String, path: String?, cwd: String?) -> String? {
        if program.contains("/") { return program }
        let directories = (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":", omittingEmptySubsequences: false)
        for directory in directories {
            let dir = directory.isEmpty ? "." : String(directory)
            let candidate = dir + "/" + program
            let absolute = candidate.hasPrefix("/") || cwd == nil ? candidate : cwd! + "/" + candidate
            if access(absolute, X_OK) == 0 {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory), !isDirectory.boolValue {
                    return absolute
                }
            }
        }
        return nil
    }

    /// `expect_exit`: one code or a list.
    static func expectedExitCodes(_ invocation: ActionInvocation) throws -> [Int] {
        switch invocation.arguments["expect_exit"] {
        case nil, .null?: return [0]
        case .int(let code)?: return [code]
        case .list(let items)?:
            let codes = items.compactMap { item -> Int? in
                if case .int(let i) = item { return i }
                return nil
            }
            guard codes.count == items.count, !codes.isEmpty else {
                throw ActionFailure("parameter 'expect_exit' must be an exit code or a non-empty list of them")
            }
            return codes
        case let other?:
            throw ActionFailure("parameter 'expect_exit' must be an exit code or a list of them, got \(other.typeName)")
        }
    }

    /// The `timeout` argument, else the step's; kept a little inside the step timeout so the action stops
    /// the process group itself and reports its output.
    static func effectiveTimeout(_ invocation: ActionInvocation) -> Double {
        let step = invocation.timeout
        let requested = invocation.duration("timeout") ?? step
        guard step > 0 else { return max(0.001, requested) }
        let margin = min(0.25, step * 0.1)
        return max(0.001, min(requested, step - margin))
    }
}
