// Local processes: signal them, or run a program. Both act on the machine the runbook runs on.
import RunbookKit

/// `process.stop` and `exec`.
public enum ProcessActions {
    /// Signal processes by pattern or pidfile and wait for them to exit.
    public static let stop = ActionDescriptor(
        id: "process.stop",
        summary: "Send `signal` to the processes whose command line matches `pattern` (like pkill -f) or whose "
            + "pid is in `pidfile`, wait up to `grace` for them to exit, then SIGKILL the rest when `escalate`",
        parameters: [
            ParameterDescriptor("pattern", .string,
                                "Regular expression (ICU syntax, as in NSRegularExpression; a plain word works as with pkill -f) matched against full command lines"),
            ParameterDescriptor("pidfile", .string, "File holding the pid to signal (instead of `pattern`)"),
            // ProcessStopAction.parseSignal takes the numbers 1–64 (Linux's signals, real-time ones included).
            ParameterDescriptor("signal", .oneOf([.enumeration(["TERM", "INT", "HUP", "QUIT", "KILL", "USR1", "USR2"]), .int]),
                                default: .string("TERM"), minimum: 1, maximum: 64, "Signal to send first: a name, or a number such as 15"),
            ParameterDescriptor("grace", .duration, default: .string("10s"), "How long to wait for them to exit"),
            ParameterDescriptor("escalate", .bool, default: .bool(true), "SIGKILL what is still running after `grace`"),
            ParameterDescriptor("require_match", .bool, default: .bool(false),
                                "Fail when nothing matches (default: nothing to stop is success)"),
        ],
        outputs: [
            OutputDescriptor("stopped", .int, "Number of processes that exited"),
            OutputDescriptor("pids", .list(.int), "Their pids"),
            OutputDescriptor("killed", .int, "How many of them needed SIGKILL"),
        ],
        mutating: true, idempotent: true, dryRun: .skipped, defaultTimeout: 60,
        // ProcessStopAction: "give either 'pattern' or 'pidfile'" (an empty one counts as not given).
        constraints: [.exactlyOne(["pattern", "pidfile"]), .nonEmpty("pattern"), .nonEmpty("pidfile"),
                      .systemText("pattern"), .systemText("pidfile"), .regex("pattern")],
        examples: [
            """
            - id: stop_training
              action: process.stop
              with: {pattern: ppo_trainer, grace: 30s}
              rollback: none

            """,
        ]
    )

    /// Run a program. Its effects are unknown, so it is mutating and never runs in dry-run.
    public static let exec = ActionDescriptor(
        id: "exec",
        summary: "Run a program from `argv` (no shell), or `command` with `shell: true`; pass when the exit code "
            + "is in `expect_exit`. When the program ends, whatever it left running in its process group (`nohup x &`) "
            + "is stopped, with a warning; a program that starts a session of its own (`setsid`, a daemonizing init "
            + "script) leaves the group and is neither stopped nor tracked. A program meant to keep running needs "
            + "`detach`, which starts it and returns its pid",
        parameters: [
            ParameterDescriptor("argv", .list(.string), "Program and arguments, run without a shell"),
            ParameterDescriptor("command", .string, "Command line for /bin/sh -c (requires `shell: true`)"),
            ParameterDescriptor("shell", .bool, default: .bool(false), "Run `command` through /bin/sh"),
            ParameterDescriptor("cwd", .string, "Working directory (default: the runbook runner's)"),
            ParameterDescriptor("env", .map(.string),
                                "Extra environment variables (pass secrets here, not in argv: argv shows in ps)"),
            ParameterDescriptor("timeout", .duration, "Kill the program after this long (default: the step timeout)"),
            // An exit code is 0–255 (128 + the signal's number when a signal ended the program).
            ParameterDescriptor("expect_exit", .oneOf([.int, .list(.int)]), default: .int(0), minimum: 0, maximum: 255,
                                "Exit code, or list of codes, that passes"),
            ParameterDescriptor("max_output_bytes", .int, default: .int(65536), minimum: 0,
                                "Keep at most this many bytes of stdout and of stderr (the tail); when more was written, "
                                + "the output starts with a line `[… N earlier bytes truncated]` on top of them (a secret that the cut "
                                + "would split is dropped whole and counted in N)"),
            ParameterDescriptor("detach", .bool, default: .bool(false),
                                "Start the program in the background (its own session, not stopped when the step ends) "
                                + "and succeed once it is running"),
            ParameterDescriptor("pidfile", .string, "With `detach`: write the program's pid to this file"),
        ],
        outputs: [
            OutputDescriptor("exit_code", .int, "Exit code (null with `detach`)"),
            OutputDescriptor("stdout", .string, "Standard output (its last max_output_bytes bytes, after a truncation line when cut)"),
            OutputDescriptor("stderr", .string, "Standard error (its last max_output_bytes bytes, after a truncation line when cut)"),
            OutputDescriptor("pid", .int, "Process id"),
        ],
        mutating: true, idempotent: false, dryRun: .skipped, defaultTimeout: 300,
        // ExecAction.spec: argv or command, never both; command only through a shell, and a shell
        // only with a command; an empty argv or command runs nothing.
        constraints: [
            .exactlyOne(["argv", "command"]),
            .requires(.given("command"), .equals("shell", .bool(true))),
            .requires(.equals("shell", .bool(true)), .given("command")),
            .nonEmpty("argv"), .nonEmpty("command"), .nonEmpty("expect_exit"),
            .systemText("argv"), .systemText("command"), .systemText("cwd"), .systemText("env"), .systemText("pidfile"),
        ],
        examples: [
            """
            - id: restart_redis
              action: exec
              with:
                argv: [kubectl, rollout, restart, deployment/redis, --namespace, production]
              timeout: 30s
              rollback: none

            """,
        ]
    )

    /// Every process action, in registration order.
    static let all = [stop, exec]
}
