#!/usr/bin/env python3
"""Generate the `runbook lint` benchmark corpus (deterministic: same seed, same bytes).

    python3 bench/gen_corpus.py [--out bench/out] [--seed 1] [--count 1000] [--big-mb 50]

Writes
  OUT/corpus/<id>.yaml      COUNT runbooks of 3-6 KB each, every one lint-clean under `runbook lint --strict`
  OUT/big/<id>.yaml         one runbook of about BIG_MB MB with tens of thousands of steps (also lint-clean)
  OUT/workflows/*.yml       COUNT GitHub Actions workflows of 3-6 KB each (the actionlint peer's corpus)

The runbooks exercise what lint has to understand: typed params, triggers (http, prometheus,
alert), steps with http.check / prometheus.query / circuit_breaker.open / feature_flag.downshift /
notify.slack / notify.pagerduty / incident.create / exec / assert / log, `confirm`, `retry` with
`until`, `when`, a `rollback:` list whose steps name what they `undoes`, and `${{ }}` expressions
that read params, earlier steps' outputs, run, env and secrets (secrets only in secret parameters).
"""
import argparse
import os
import random
import shutil

SERVICES = ["api", "qwen", "mistral", "llama", "cache", "redis", "postgres", "search", "billing",
            "checkout", "gateway", "auth", "ingest", "trainer", "scheduler", "queue", "frontend",
            "reco", "embeddings", "storage"]
SCENARIOS = ["high_latency", "error_spike", "down", "saturation", "memory_leak", "queue_backlog",
             "bad_deploy", "disk_full", "cert_expiry", "reward_runaway", "pool_exhausted", "timeouts"]
TEAMS = ["ml-platform", "sre", "data-infra", "payments", "core-api", "search-team", "storage-ops"]
MODES = ["creative", "balanced", "fast", "precise"]
METRICS = ["http_requests_total", "llm_errors_total", "api_response_seconds_bucket",
           "queue_depth", "db_connections_in_use", "cache_misses_total", "process_resident_memory_bytes"]
WORDS = ("the service answers slowly while the upstream pool is saturated and retries pile up on the "
         "gateway so that the fallback path takes the load and the on-call decides whether to restart "
         "the pods or to shift traffic to the other region once the error budget burn rate drops").split()


def sentence(rng, lo=6, hi=16):
    n = rng.randint(lo, hi)
    start = rng.randrange(len(WORDS))
    words = [WORDS[(start + i) % len(WORDS)] for i in range(n)]
    s = " ".join(words)
    return s[0].upper() + s[1:] + "."


def q(s):
    """Double-quoted YAML scalar."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dur(seconds):
    seconds = int(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    out = ""
    if h:
        out += f"{h}h"
    if m:
        out += f"{m}m"
    if s or not out:
        out += f"{s}s"
    return out


class RunbookBuilder:
    """Builds one runbook: a list of main steps and rollback steps, rendered as block YAML."""

    def __init__(self, rng, rid, svc):
        self.rng = rng
        self.rid = rid
        self.svc = svc
        self.steps = []       # (id, text lines, worst-case seconds, is_confirm_action)
        self.rollback = []    # text lines
        self.counter = 0
        self.readable = []    # (step id, outputs) of steps that already ran
        self.has_confirm = False
        self.has_pagerduty = False

    def recent(self, keep, n):
        """The last n steps that already ran whose outputs pass `keep` (scans back a bounded way)."""
        found = []
        for r in reversed(self.readable[-40:]):
            if keep(r[1]):
                found.insert(0, r)
                if len(found) == n:
                    break
        return found

    def new_id(self, base):
        self.counter += 1
        return f"{base}_{self.counter}"

    # Every step kind returns (lines, worst-case seconds).
    def http_check(self):
        rng = self.rng
        sid = self.new_id(rng.choice(["health", "probe", "check", "verify"]))
        t = rng.choice([5, 10, 15, 30])
        lines = [f"  - id: {sid}",
                 f"    name: {self.svc} health endpoint answers",
                 "    action: http.check",
                 "    with:",
                 f"      url: \"${{{{ params.api_url }}}}/health/{self.svc}?probe={self.counter}\"",
                 f"      expect_status: {rng.choice(['200', '[200, 204]', '503'])}",
                 f"      timeout: {t}s"]
        if rng.random() < 0.4:
            lines.append(f"      max_latency: {rng.choice(['500ms', '2s', '5s'])}")
        if rng.random() < 0.3:
            lines.append("      accept_timeout: true")
        lines.append(f"    timeout: {t + 5}s")
        worst = t + 5
        if rng.random() < 0.35:
            attempts, delay = rng.randint(2, 5), rng.choice([2, 5, 10])
            lines.append(f"    retry: {{attempts: {attempts}, delay: {delay}s, backoff: 2}}")
            lines.append(f"    until: \"${{{{ steps.{sid}.outputs.status == 200 && steps.{sid}.outputs.latency_ms < 800 }}}}\"")
            worst = worst * attempts + sum(delay * 2 ** i for i in range(attempts - 1))
        if rng.random() < 0.5:
            lines.append(f"    on_failure: {rng.choice(['continue', 'abort'])}")
        self.readable.append((sid, ["status", "latency_ms", "body"]))
        return sid, lines, worst

    def prom_query(self):
        rng = self.rng
        sid = self.new_id(rng.choice(["error_rate", "p95", "saturation", "backlog"]))
        metric = rng.choice(METRICS)
        query = (f"sum(rate({metric}{{service=\"{self.svc}\",code=~\"5..\"}}[5m])) / "
                 f"sum(rate({metric}{{service=\"{self.svc}\"}}[5m]))")
        t = rng.choice([10, 15, 20])
        lines = [f"  - id: {sid}",
                 f"    name: {self.svc} {metric} over the last 5 minutes",
                 "    action: prometheus.query",
                 "    with:",
                 "      url: \"${{ params.prometheus_url }}\"",
                 f"      query: '{query}'",
                 "      require_value: true",
                 f"    timeout: {t}s"]
        worst = t
        if rng.random() < 0.6:
            attempts, delay = rng.randint(3, 10), rng.choice([10, 20, 30])
            lines.append(f"    retry: {{attempts: {attempts}, delay: {delay}s, backoff: 1}}")
            lines.append(f"    until: \"${{{{ steps.{sid}.outputs.value < params.threshold }}}}\"")
            worst = t * attempts + delay * (attempts - 1)
        else:
            lines.append("    on_failure: continue")
        self.readable.append((sid, ["value", "series"]))
        return sid, lines, worst

    def assert_step(self):
        rng = self.rng
        sid = self.new_id("confirmed")
        refs = self.recent(lambda outs: "value" in outs or "status" in outs, 3)
        parts = []
        for rid, outs in refs:
            if "value" in outs:
                parts.append(f"(steps.{rid}.status == 'succeeded' && steps.{rid}.outputs.value > params.threshold)")
            else:
                parts.append(f"steps.{rid}.status == 'succeeded'")
        expr = " || ".join(parts) if parts else "params.replicas > 0"
        lines = [f"  - id: {sid}",
                 f"    name: {self.svc} is really failing",
                 "    action: assert",
                 "    with:",
                 f"      that: \"${{{{ {expr} }}}}\"",
                 f"      message: {q(sentence(rng) + ' Nothing to do for ' + self.svc + '.')}",
                 "    on_failure: abort"]
        return sid, lines, 60

    def open_breaker(self):
        rng = self.rng
        sid = self.new_id("open_breaker")
        name = f"{self.svc}_{self.counter}"
        lines = [f"  - id: {sid}",
                 f"    name: Open the {name} circuit breaker",
                 "    action: circuit_breaker.open",
                 "    with:",
                 f"      name: {name}",
                 f"      reason: \"{self.svc} failure (run ${{{{ run.id }}}}, mode ${{{{ params.mode }}}}): requests blocked\"",
                 "    timeout: 10s"]
        self.add_confirm(lines)
        self.rollback += [f"  - id: close_{sid}",
                          f"    name: Close the {name} circuit breaker",
                          "    action: circuit_breaker.close",
                          f"    with: {{name: {name}, reason: \"rollback of run ${{{{ run.id }}}}\"}}",
                          f"    undoes: [{sid}]",
                          f"    when: \"${{{{ steps.{sid}.status == 'succeeded' }}}}\"",
                          "    timeout: 10s"]
        self.readable.append((sid, ["state"]))
        return sid, lines, 10

    def downshift(self):
        rng = self.rng
        sid = self.new_id("downshift")
        frm, to = rng.sample(MODES, 2)
        lines = [f"  - id: {sid}",
                 f"    name: Route {frm} requests to {to}",
                 "    action: feature_flag.downshift",
                 "    with:",
                 f"      from: {frm}",
                 f"      to: {to}",
                 f"      reason: \"{self.svc} degraded (run ${{{{ run.id }}}})\"",
                 "    timeout: 10s"]
        self.add_confirm(lines)
        self.rollback += [f"  - id: restore_{sid}",
                          f"    name: Restore {frm} mode",
                          "    action: feature_flag.restore",
                          "    with:",
                          f"      mode: {frm}",
                          f"      reason: \"rollback of run ${{{{ run.id }}}}, was ${{{{ steps.{sid}.outputs.previous }}}}\"",
                          f"    undoes: [{sid}]",
                          f"    when: \"${{{{ steps.{sid}.status == 'succeeded' }}}}\"",
                          "    on_failure: continue"]
        self.readable.append((sid, ["previous"]))
        return sid, lines, 10

    def exec_step(self):
        rng = self.rng
        sid = self.new_id(rng.choice(["restart", "drain", "collect_logs", "rotate"]))
        t = rng.choice([30, 60, 120])
        lines = [f"  - id: {sid}",
                 f"    name: {sid.replace('_', ' ')} for {self.svc}",
                 "    action: exec",
                 "    with:",
                 f"      argv: [kubectl, rollout, restart, \"deployment/{self.svc}\", -n, production, \"--replicas=${{{{ params.replicas }}}}\"]",
                 f"      env: {{KUBECONFIG: \"${{{{ env.HOME }}}}/.kube/config\", TOKEN: \"${{{{ secrets.kube_token }}}}\"}}",
                 f"      expect_exit: [0, 3]",
                 f"      timeout: {t}s",
                 f"    timeout: {t + 10}s",
                 "    rollback: none"]
        self.add_confirm(lines)
        self.readable.append((sid, ["exit_code", "stdout"]))
        return sid, lines, t + 10

    def notify(self):
        rng = self.rng
        sid = self.new_id("notify_slack")
        refs = self.recent(lambda outs: "value" in outs, 1)
        extra = f", value ${{{{ steps.{refs[0][0]}.outputs.value }}}}" if refs else ""
        lines = [f"  - id: {sid}",
                 "    name: Tell the on-call channel",
                 "    action: notify.slack",
                 "    with:",
                 "      webhook_url: \"${{ secrets.slack_webhook }}\"",
                 f"      text: \"{self.svc}: {sentence(rng, 4, 9)[:-1]} (runbook {self.rid}, run ${{{{ run.id }}}}{extra})\"",
                 f"      channel: \"#{self.svc}-oncall\"",
                 "    timeout: 15s",
                 "    on_failure: continue"]
        return sid, lines, 15

    def pagerduty(self):
        sid = self.new_id("page_oncall")
        self.has_pagerduty = True
        lines = [f"  - id: {sid}",
                 "    name: Page the on-call",
                 "    action: notify.pagerduty",
                 "    with:",
                 "      routing_key: \"${{ secrets.pagerduty_routing_key }}\"",
                 f"      summary: \"{self.svc} failure; mitigation running (run ${{{{ run.id }}}})\"",
                 "      severity: critical",
                 f"      source: {self.svc}",
                 "    timeout: 15s",
                 "    on_failure: continue"]
        return sid, lines, 15

    def incident(self):
        rng = self.rng
        sid = self.new_id("open_incident")
        lines = [f"  - id: {sid}",
                 "    name: Create the incident",
                 "    action: incident.create",
                 "    with:",
                 f"      title: {self.svc} {rng.choice(SCENARIOS).replace('_', ' ')}",
                 f"      description: {q(sentence(rng))}",
                 f"      components: [{self.svc}, {rng.choice(SERVICES)}]",
                 "    timeout: 10s",
                 "    on_failure: continue",
                 "    rollback: none"]
        self.readable.append((sid, ["id"]))
        return sid, lines, 10

    def log_step(self):
        sid = self.new_id("log")
        refs = self.readable[-2:]
        parts = ", ".join(f"{r[0]}=${{{{ steps.{r[0]}.status }}}}" for r in refs) or "nothing yet"
        when = ""
        lines = [f"  - id: {sid}",
                 "    action: log",
                 "    with:",
                 f"      message: \"${{{{ format('{{0}} on {{1}}', '{self.svc}', run.runbook) }}}}: {parts}\""]
        if refs:
            lines.append(f"    when: \"${{{{ steps.{refs[-1][0]}.status != 'skipped' && len(run.id) > 0 }}}}\"")
        return sid, lines, 60

    def add_confirm(self, lines):
        if self.automation != "automatic" and not self.has_confirm:
            self.has_confirm = True
            lines.append(f"    confirm: {{message: \"Go ahead with {lines[0].split(': ')[1]} on {self.svc}?\", timeout: 30m}}")
        elif self.rng.random() < 0.15:
            self.has_confirm = True
            lines.append(f"    confirm: \"Apply {lines[0].split(': ')[1]}? (mode ${{{{ params.mode }}}})\"")


def header(rng, rid, svc, scen, sev, automation, expected, big=False):
    out = [f"# {svc} {scen.replace('_', ' ')}: generated benchmark runbook (bench/gen_corpus.py).",
           "version: 1",
           f"id: {rid}",
           f"title: {svc} {scen.replace('_', ' ')} → mitigate",
           "description: |"]
    for _ in range(rng.randint(2, 4)):
        out.append("  " + sentence(rng, 10, 20))
    out += [f"severity: {sev}",
            f"automation: {automation}"]
    if expected is not None:
        out.append(f"expected_recovery: {dur(expected)}")
    out += [f"owner: {rng.choice(TEAMS)}",
            f"components: [{svc}, {rng.choice(SERVICES)}]",
            "",
            "params:",
            f"  api_url: {{type: url, default: \"http://localhost:{8000 + rng.randrange(100)}\", description: {svc} API base URL}}",
            "  prometheus_url: {type: url, default: \"http://localhost:9090\", description: Prometheus base URL}",
            f"  threshold: {{type: number, default: {rng.choice(['0.5', '0.05', '2.5'])}}}",
            f"  replicas: {{type: int, default: {rng.randint(2, 16)}}}",
            f"  mode: {{type: string, default: {MODES[0]}, enum: [{', '.join(MODES)}]}}",
            "  window: {type: duration, default: 5m, description: Observation window}",
            "  force: {type: bool, default: false}",
            "",
            "triggers:",
            f"  match: {rng.choice(['any', 'all'])}",
            "  conditions:",
            "    - id: health_failing",
            f"      http: {{url: \"${{{{ params.api_url }}}}/health/{svc}\", expect_status: 200, timeout: 10s}}",
            f"      consecutive_failures: {rng.randint(2, 5)}",
            "    - id: error_rate",
            "      prometheus:",
            "        url: \"${{ params.prometheus_url }}\"",
            f"        query: 'sum(rate({rng.choice(METRICS)}{{service=\"{svc}\"}}[5m]))'",
            f"      above: {rng.choice(['0.5', '100', '0.02'])}",
            "      for: 5m",
            "    - id: alert",
            f"      alert: {{alertname: {svc.capitalize()}Down, severity: {sev}}}",
            "",
            "steps:",
            # Every param is read somewhere (lint warns about one that is not: unused-param).
            "  - id: context",
            "    action: log",
            "    with: {message: \"window ${{ params.window }}, force ${{ params.force }}, mode ${{ params.mode }}, "
            "threshold ${{ params.threshold }}, replicas ${{ params.replicas }}\"}"]
    return out


def footer(rng, svc):
    return ["",
            "manual_recovery: |",
            "  1. Read the logs:",
            "",
            f"         kubectl logs -n production deployment/{svc} --tail=100",
            "",
            "  2. " + sentence(rng),
            "  3. " + sentence(rng),
            "",
            "prevention:",
            "  - " + sentence(rng, 4, 8),
            "  - " + sentence(rng, 4, 8)]


KINDS = ["http_check", "prom_query", "open_breaker", "downshift", "exec_step", "notify",
         "incident", "log_step", "assert_step"]


def build_runbook(rng, rid, svc, scen, target_bytes=None, n_steps=None):
    sev = rng.choice(["sev1", "sev2", "sev2", "sev3", "sev4"])
    automation = rng.choice(["automatic", "automatic", "semi_automatic", "manual"])
    b = RunbookBuilder(rng, rid, svc)
    b.automation = automation
    steps = []
    order = ["http_check", "prom_query"] + (["pagerduty"] if sev == "sev1" else [])
    order += ["assert_step", "open_breaker", "downshift", "notify", "incident"]
    i = 0
    big = n_steps is not None

    def render(steps, expected):
        lines = header(rng_hdr, rid, svc, scen, sev, automation, expected, big)
        for _, s, _ in steps:
            lines += s
        if b.rollback:
            lines += ["", "rollback:"] + b.rollback
        lines += footer(rng_hdr, svc)
        return "\n".join(lines) + "\n"

    hdr_seed = rng.random()
    while True:
        kind = order[i] if i < len(order) else rng.choice(KINDS)
        i += 1
        steps.append(getattr(b, kind)())
        if big:
            if len(steps) >= n_steps:
                break
            continue
        rng_hdr = random.Random(hdr_seed)
        if len(render(steps, 0)) >= target_bytes:
            break
    if automation != "automatic" and not b.has_confirm:
        # a semi_automatic/manual runbook needs a confirmation somewhere
        sid = b.new_id("go_ahead")
        steps.insert(0, (sid, [f"  - id: {sid}", "    action: confirm",
                               "    with: {message: \"Start the mitigation?\", timeout: 15m}",
                               "    on_failure: abort"], 0))
    total = sum(w for _, _, w in steps)
    expected = None if big or rng.random() < 0.2 else int(total * 1.5 / 60 + 1) * 60
    rng_hdr = random.Random(hdr_seed)
    return render(steps, expected)


def gen_runbooks(out, rng, count):
    d = os.path.join(out, "corpus")
    os.makedirs(d)
    sizes = []
    for n in range(count):
        svc, scen = rng.choice(SERVICES), rng.choice(SCENARIOS)
        rid = f"bench_{n:04d}_{svc}_{scen}"
        target = rng.randint(3100, 5700)
        text = build_runbook(rng, rid, svc, scen, target_bytes=target)
        sizes.append(len(text.encode()))
        with open(os.path.join(d, rid + ".yaml"), "w") as f:
            f.write(text)
    return sizes


def gen_big(out, rng, mb):
    d = os.path.join(out, "big")
    os.makedirs(d)
    rid = "bench_big_gateway_saturation"
    # ~700 bytes per step on average (rollback steps included): measure on a small sample, then scale.
    sample = build_runbook(random.Random(7), rid, "gateway", "saturation", n_steps=500)
    per_step = len(sample) / 500
    n = int(mb * 1_000_000 / per_step)
    text = build_runbook(rng, rid, "gateway", "saturation", n_steps=n)
    with open(os.path.join(d, rid + ".yaml"), "w") as f:
        f.write(text)
    return n, len(text.encode())


def gen_workflows(out, rng, count):
    d = os.path.join(out, "workflows")
    os.makedirs(d)
    sizes = []
    for n in range(count):
        svc = rng.choice(SERVICES)
        lines = [f"name: {svc} ci {n}",
                 "on:",
                 "  push:",
                 "    branches: [main]",
                 "  pull_request:",
                 "    paths: ['src/**', 'tests/**']",
                 "  workflow_dispatch:",
                 "    inputs:",
                 "      level:",
                 "        description: Log level",
                 "        required: false",
                 "        default: info",
                 "        type: choice",
                 "        options: [info, debug]",
                 "permissions:",
                 "  contents: read",
                 "env:",
                 f"  SERVICE: {svc}",
                 "jobs:"]
        target = rng.randint(3100, 4700)  # a job adds up to ~1.3 KB past the target
        j = 0
        while len("\n".join(lines)) < target:
            j += 1
            job = f"job_{j}"
            lines += [f"  {job}:",
                      f"    name: {svc} {rng.choice(['build', 'test', 'lint', 'package'])} {j}",
                      "    runs-on: ubuntu-latest",
                      "    timeout-minutes: 30"]
            if j > 1:
                lines.append(f"    needs: [job_{j - 1}]")
            lines += ["    strategy:",
                      "      matrix:",
                      f"        python: ['3.10', '3.11', '3.12']",
                      "    steps:",
                      "      - uses: actions/checkout@v4",
                      "      - uses: actions/setup-python@v5",
                      "        with:",
                      "          python-version: ${{ matrix.python }}"]
            for k in range(rng.randint(2, 4)):
                lines += [f"      - name: step {k} of {job}",
                          f"        id: s{k}",
                          "        run: |",
                          f"          echo \"{sentence(rng, 3, 8)}\"",
                          f"          python -m pytest tests/{svc} -k test_{k} --maxfail=1",
                          "        env:",
                          "          LEVEL: ${{ inputs.level }}",
                          "        if: ${{ github.event_name != 'schedule' }}"]
        text = "\n".join(lines) + "\n"
        sizes.append(len(text.encode()))
        with open(os.path.join(d, f"wf_{n:04d}.yml"), "w") as f:
            f.write(text)
    return sizes


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="bench/out")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--big-mb", type=float, default=50)
    args = ap.parse_args()
    for sub in ("corpus", "big", "workflows"):
        shutil.rmtree(os.path.join(args.out, sub), ignore_errors=True)
    rng = random.Random(args.seed)
    sizes = gen_runbooks(args.out, rng, args.count)
    n, big = gen_big(args.out, random.Random(args.seed + 1), args.big_mb)
    wf = gen_workflows(args.out, random.Random(args.seed + 2), args.count)
    print(f"corpus: {len(sizes)} runbooks, {sum(sizes)} bytes, {min(sizes)}-{max(sizes)} bytes each")
    print(f"big: {n} steps, {big} bytes")
    print(f"workflows: {len(wf)} files, {sum(wf)} bytes, {min(wf)}-{max(wf)} bytes each")


if __name__ == "__main__":
    main()
