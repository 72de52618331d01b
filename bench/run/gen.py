#!/usr/bin/env python3
"""Generates the run-overhead benchmark inputs: the same work for runbook, Ansible and pypyr.

Cases:
  steps1, steps100, steps1000  alternating `log` / `assert` steps (1, 100, 1,000 steps), each with a
                               simple expression over a param (`n` = 42)
  http1, http100               `http.check` steps (1, 100) against http://127.0.0.1:PORT/health

For each case NAME it writes, under OUT:
  runbook/NAME.yaml   a runbook (format v1)
  ansible/NAME.yml    a playbook: hosts localhost, connection local, gather_facts false;
                      debug/assert tasks, uri tasks for the HTTP checks
  pypyr/NAME.yaml     a pypyr pipeline: pypyr.steps.echo / pypyr.steps.assert; the HTTP check is an
                      in-process pypyr.steps.py step with urllib

Usage: gen.py OUT PORT
Only the standard library is used; the YAML is written by hand (every value is a plain literal).
"""
import os
import sys

STEP_COUNTS = (1, 100, 1000)
HTTP_COUNTS = (1, 100)


def runbook(name, title, steps):
    lines = [
        "version: 1",
        f"id: {name}",
        f"title: \"{title}\"",
        "severity: sev4",
        "automation: automatic",
        "owner: bench",
        "params:",
        "  n: {type: int, default: 42}",
        "  url: {type: url, default: \"http://127.0.0.1:8080/health\"}",
        "steps:",
    ]
    lines += steps
    return "\n".join(lines) + "\n"


def runbook_steps(count):
    out = []
    for i in range(1, count + 1):
        if i % 2 == 1:
            out += [f"  - id: s{i:04d}", "    action: log",
                    f"    with: {{message: \"step {i}: n is ${{{{ params.n }}}}\"}}"]
        else:
            out += [f"  - id: s{i:04d}", "    action: assert",
                    f"    with: {{that: \"${{{{ params.n + {i} == {42 + i} }}}}\"}}"]
    return out


def runbook_http(count):
    out = []
    for i in range(1, count + 1):
        out += [f"  - id: h{i:04d}", "    action: http.check",
                "    with: {url: \"${{ params.url }}\", expect_status: 200, timeout: 5s}"]
    return out


def playbook(name, tasks, url):
    lines = [
        f"- name: {name}",
        "  hosts: localhost",
        "  connection: local",
        "  gather_facts: false",
        "  vars:",
        "    n: 42",
        f"    url: \"{url}\"",
        "  tasks:",
    ]
    lines += tasks
    return "\n".join(lines) + "\n"


def ansible_steps(count):
    out = []
    for i in range(1, count + 1):
        if i % 2 == 1:
            out += [f"    - name: s{i:04d}", "      ansible.builtin.debug:",
                    f"        msg: \"step {i}: n is {{{{ n }}}}\""]
        else:
            out += [f"    - name: s{i:04d}", "      ansible.builtin.assert:",
                    f"        that: [\"n + {i} == {42 + i}\"]", "        quiet: true"]
    return out


def ansible_http(count):
    out = []
    for i in range(1, count + 1):
        out += [f"    - name: h{i:04d}", "      ansible.builtin.uri:",
                "        url: \"{{ url }}\"", "        status_code: 200", "        timeout: 5"]
    return out


def pipeline(steps, url):
    lines = [
        "steps:",
        "  - name: pypyr.steps.set",
        "    in:",
        "      set:",
        "        n: 42",
        f"        url: \"{url}\"",
    ]
    lines += steps
    return "\n".join(lines) + "\n"


def pypyr_steps(count):
    out = []
    for i in range(1, count + 1):
        if i % 2 == 1:
            out += ["  - name: pypyr.steps.echo", "    in:",
                    f"      echoMe: \"step {i}: n is {{n}}\""]
        else:
            out += ["  - name: pypyr.steps.assert", "    in:", "      assert:",
                    f"        this: !py n + {i} == {42 + i}"]
    return out


# One in-process GET per step, checked like http.check: status 200, body read.
PYPYR_HTTP = [
    "  - name: pypyr.steps.py",
    "    in:",
    "      py: |",
    "        import urllib.request",
    "        with urllib.request.urlopen(url, timeout=5) as r:",
    "            body = r.read()",
    "            assert r.status == 200, r.status",
]


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: gen.py OUT PORT")
    out, port = sys.argv[1], int(sys.argv[2])
    url = f"http://127.0.0.1:{port}/health"
    for sub in ("runbook", "ansible", "pypyr"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)

    def write(sub, name, text):
        with open(os.path.join(out, sub, name), "w") as f:
            f.write(text)

    for n in STEP_COUNTS:
        name = f"steps{n}"
        rb = runbook(name, f"Benchmark: {n} log/assert steps", runbook_steps(n))
        write("runbook", f"{name}.yaml", rb.replace("http://127.0.0.1:8080/health", url))
        write("ansible", f"{name}.yml", playbook(name, ansible_steps(n), url))
        write("pypyr", f"{name}.yaml", pipeline(pypyr_steps(n), url))
    for n in HTTP_COUNTS:
        name = f"http{n}"
        rb = runbook(name, f"Benchmark: {n} http.check steps", runbook_http(n))
        write("runbook", f"{name}.yaml", rb.replace("http://127.0.0.1:8080/health", url))
        write("ansible", f"{name}.yml", playbook(name, ansible_http(n), url))
        write("pypyr", f"{name}.yaml", pipeline(PYPYR_HTTP * n, url))


if __name__ == "__main__":
    main()
