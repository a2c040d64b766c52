/**
 * The adversarial suite of the sandbox (README, "Safety: patch policy and sandbox"): commands that
 * try to read a planted secret and other processes' environments, write outside their tree, reach a
 * host unix socket or the host's loopback, leave daemons behind, fill memory, files and /tmp, and
 * take the timing runner's descriptors. Each attack runs in the real bubblewrap sandbox (CI installs
 * it: scripts/ensure-tools.sh), with the network off and on, and must fail.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildChildEnv } from "../src/core/exec/env.ts";
import type { Isolation } from "../src/core/exec/isolation.ts";
import { runCommand } from "../src/core/exec/run-command.ts";
import { measure } from "../src/core/measure/protocol.ts";
import { sandboxFor } from "./helpers/sandbox.ts";

const SECRET = `perfloop-planted-secret-${process.pid}-${Date.now()}`;
let root: string;
let home: string;
let repo: string;
let tree: string;
let victim: ChildProcess;
let socketServer: net.Server;
let tcpServer: net.Server;
let tcpPort = 0;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "perfloop-attacks-"));
  home = path.join(root, "home");
  repo = path.join(root, "repo");
  tree = path.join(root, "scratch", "tree");
  await mkdir(home, { recursive: true });
  await mkdir(repo, { recursive: true });
  await mkdir(tree, { recursive: true });
  await writeFile(path.join(home, ".credentials"), `${SECRET}\n`);
  await writeFile(path.join(repo, "user-file.txt"), "the user's own file\n");
  // A process holding secrets in its environment, like perfloop itself or the runner.
  victim = spawn("sleep", ["600"], { env: { ...process.env, VICTIM_API_KEY: SECRET }, stdio: "ignore" });
  socketServer = net.createServer((c) => c.end(`${SECRET}\n`)).listen(path.join(home, "docker.sock"));
  tcpServer = net.createServer((c) => c.end(`${SECRET}\n`));
  await new Promise<void>((resolve) => tcpServer.listen(0, "127.0.0.1", resolve));
  tcpPort = (tcpServer.address() as net.AddressInfo).port;
});

afterAll(async () => {
  victim.kill("SIGKILL");
  socketServer.close();
  tcpServer.close();
  await rm(root, { recursive: true, force: true });
});

/** Runs `script` in `tree` (read-write) in the sandbox, with perfloop's environment rules. */
async function attack(isolation: Isolation, script: string, timeoutMs = 30_000) {
  const env = buildChildEnv({ PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, LANG: "C.UTF-8" });
  return runCommand(script, { cwd: tree, env, timeoutMs, outputLimit: 200_000, isolation });
}

function sandbox(network: "off" | "on", limits: Record<string, unknown> = {}) {
  return sandboxFor({ network, limits }, [repo]);
}

/** Host processes whose command line holds `marker`. */
function survivors(marker: string): string[] {
  return execFileSync("ps", ["-eo", "pid,args"], { encoding: "utf8" })
    .split("\n")
    .filter((line) => line.includes(marker) && !line.includes("ps -eo"));
}

describe.each(["off", "on"] as const)("attacks from inside the sandbox, network %s", (network) => {
  it("cannot read a secret file in the runner's home, by $HOME or by its host path", async () => {
    const result = await attack(
      await sandbox(network),
      `cat "$HOME/.credentials"; cat ${home}/.credentials; ls -a "$HOME"; echo done`,
    );
    expect(result.stdout).toContain("done");
    expect(result.stdout + result.stderr).not.toContain(SECRET);
  });

  it("cannot read the environment or command line of any host process", async () => {
    const result = await attack(
      await sandbox(network),
      `cat /proc/${victim.pid}/environ; for f in /proc/[0-9]*/environ /proc/[0-9]*/cmdline; do cat "$f"; echo; done; ls /proc | grep -c '^[0-9]'`,
    );
    expect(result.stdout + result.stderr).not.toContain(SECRET);
    expect(result.stdout).not.toContain("sleep600"); // the victim is not even visible
    expect(Number(result.stdout.trim().split("\n").at(-1))).toBeLessThan(10); // a fresh PID namespace
  });

  it("cannot write into the user's tree, the host's /tmp or the runner's home", async () => {
    const marker = `perfloop-attack-${process.pid}-${network}`;
    await attack(
      await sandbox(network),
      `echo x > ${repo}/planted; mkdir -p ${repo}/.git/hooks && echo x > ${repo}/.git/hooks/post-commit; echo x > /tmp/${marker}; echo x > "$HOME/${marker}"; echo x > ${home}/${marker}; true`,
    );
    expect(existsSync(path.join(repo, "planted"))).toBe(false);
    expect(existsSync(path.join(repo, ".git"))).toBe(false);
    expect(existsSync(path.join(tmpdir(), marker))).toBe(false);
    expect(existsSync(path.join("/tmp", marker))).toBe(false);
    expect(existsSync(path.join(home, marker))).toBe(false);
    expect(await readFile(path.join(repo, "user-file.txt"), "utf8")).toBe("the user's own file\n");
  });

  it("cannot reach a unix socket at a host path", async () => {
    const result = await attack(
      await sandbox(network),
      `python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); print(s.recv(200))" ${home}/docker.sock; echo exit=$?`,
    );
    expect(result.stdout + result.stderr).not.toContain(SECRET);
    expect(result.stdout).toMatch(/exit=1/);
  });

  it("leaves no daemon behind: setsid and double-forked processes die with the command", async () => {
    const marker = `${process.pid}${network === "off" ? 1 : 2}7`;
    const result = await attack(
      await sandbox(network),
      `setsid sh -c 'sleep ${marker}' & (sh -c 'sleep ${marker}1 &' &); nohup sleep ${marker}2 >/dev/null 2>&1 & echo started`,
    );
    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
    expect(result.durationMs).toBeLessThan(10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(survivors(`sleep ${marker}`)).toEqual([]);
  });

  it("a daemon holding the output pipe cannot stall perfloop", async () => {
    const result = await attack(await sandbox(network), "setsid sleep 300 & echo ok", 60_000);
    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
    expect(result.durationMs).toBeLessThan(10_000);
  });

  it("cannot fill the host's /tmp: its /tmp is a private tmpfs of the configured size", async () => {
    const result = await attack(
      await sandbox(network, { tmp: "16 MiB" }),
      "head -c 64000000 /dev/zero > /tmp/fill; echo exit=$?; ls -l /tmp/fill | awk '{print $5}'",
    );
    expect(result.stdout).toMatch(/exit=1/);
    expect(Number(result.stdout.trim().split("\n").at(-1))).toBeLessThanOrEqual(16 * 2 ** 20);
  });

  it("cannot write a file larger than limits.file_size", async () => {
    const result = await attack(
      await sandbox(network, { file_size: "1 MiB" }),
      "head -c 5000000 /dev/zero > big; echo exit=$?; wc -c < big",
    );
    expect(result.stdout).not.toMatch(/exit=0/);
    expect(Number(result.stdout.trim().split("\n").at(-1))).toBe(2 ** 20);
  });

  it("cannot allocate more than limits.memory in one process", async () => {
    const result = await attack(
      await sandbox(network, { memory: "256 MiB" }),
      `python3 -c "b = bytearray(1024 * 1024 * 1024); print('allocated', len(b))"; echo exit=$?`,
    );
    expect(result.stdout).not.toContain("allocated");
    expect(result.stderr).toContain("MemoryError");
  });

  it("cannot start more than limits.processes processes (a fork bomb stops there)", async () => {
    const isolation = await sandbox(network, { processes: 64 });
    // RLIMIT_NPROC does not apply to a root runner (the kernel exempts uid 0): there a cgroup's
    // pids.max is the limit, and perfloop must have found one.
    if (process.getuid?.() === 0)
      expect(isolation.cgroup?.pids, "root runner without a pids cgroup").toBeTruthy();
    const result = await attack(
      isolation,
      `python3 -c "
import os, time
n = 0
for i in range(200):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(3)
        os._exit(0)
    n += 1
print('forked', n)"`,
    );
    const forked = Number(/forked (\d+)/.exec(result.stdout)?.[1]);
    expect(forked).toBeGreaterThan(0);
    expect(forked).toBeLessThan(64);
  });

  it("never gets the model key or the GitHub token in its environment", async () => {
    const env = buildChildEnv(
      { PATH: process.env.PATH ?? "", OPENAI_API_KEY: SECRET, GITHUB_TOKEN: SECRET },
      ["OPENAI_API_KEY", "GITHUB_TOKEN"],
    );
    const result = await runCommand("env; cat /proc/1/environ", {
      cwd: tree,
      env,
      timeoutMs: 30_000,
      outputLimit: 100_000,
      isolation: await sandbox(network),
    });
    expect(result.stdout).not.toContain(SECRET);
  });
});

describe("the network", () => {
  it("off: only loopback, and the host's loopback services are unreachable", async () => {
    const result = await attack(
      await sandbox("off"),
      `python3 -c "import socket; s=socket.create_connection(('127.0.0.1', ${tcpPort}), timeout=3); print(s.recv(200))"; echo exit=$?; python3 -c "import socket; socket.create_connection(('1.1.1.1', 53), timeout=3)"; echo exit=$?`,
    );
    expect(result.stdout + result.stderr).not.toContain(SECRET);
    expect(result.stdout.match(/exit=1/g)).toHaveLength(2);
  });

  it("on: the host's network is shared (what sandbox.network: on means, stated in the README)", async () => {
    const result = await attack(
      await sandbox("on"),
      `python3 -c "import socket; s=socket.create_connection(('127.0.0.1', ${tcpPort}), timeout=3); print(s.recv(200).decode())"`,
    );
    expect(result.stdout).toContain(SECRET);
  });
});

describe("the timing runner", () => {
  it("is invisible to the benchmark, which cannot forge a timing", async () => {
    // The attack of issue 10: find the runner beside the benchmark and write a forged record into
    // its stdout (pidfd_getfd needs the runner's pid, which a fresh PID namespace does not show).
    const forge = `python3 - <<'EOF'
import os, json
for pid in [p for p in os.listdir('/proc') if p.isdigit()]:
    try:
        cmd = open(f'/proc/{pid}/cmdline','rb').read()
    except OSError:
        continue
    if any(arg.endswith(b'/runner.py') for arg in cmd.split(b'\\0')):
        print('found runner', pid)
        for fd in os.listdir(f'/proc/{pid}/fd'):
            try:
                os.write(os.open(f'/proc/{pid}/fd/{fd}', os.O_WRONLY), json.dumps({"event": "exited", "wallMs": 0.123}).encode() + b"\\n")
            except OSError:
                pass
EOF
sleep 0.3`;
    const isolation = await sandbox("off");
    const measurement = await measure(
      [{ label: "A", cwd: tree, env: { PATH: process.env.PATH ?? "" }, command: forge }],
      { warmup: 0, runs: 5, isolation, timeoutMs: 30_000, outputLimit: 10_000, sampleIntervalMs: 0 },
    );
    for (const run of measurement.runs) {
      expect(run.wallMs).toBeGreaterThan(250);
      expect(run.exitCode).toBe(0);
    }
    expect(measurement.stdout.A).not.toContain("found runner");
  });
});
