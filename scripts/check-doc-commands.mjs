// Runs the commands of the README, the guides and the package READMEs as a newcomer would type them (part of
// `pnpm test`). What it reads: every line of a ```sh / ```bash block (with `\` continuations joined and `# comments`
// dropped) and every inline `code` span that starts with `pnpm `, `npm `, `node ` or `FC_NUM_RUNS=`, in
// README.md, docs/guides/*.md (not cli-reference.md: generated from --help and checked by its own test),
// packages/*/README.md and apps/*/README.md. Each command must match one rule of RULES below, else the check
// fails (a new command in the docs needs a rule). The rules say what is done with it:
// - run: executed with bash, in the order of the documents, in one scratch directory that links the clone's
//   apps/, packages/, scripts/, node_modules/ and package.json (so `pnpm -s selmix` and paths like
//   apps/cli/examples/... work, and runs/ lands in the scratch directory). Training commands get tiny step counts
//   appended (a later flag wins in commander), printed with the command; a bare `selmix` is the CLI's bin (what
//   `npm install -g @selmix/cli` puts on PATH). It must exit 0.
// - help: the command's `--help` must exit 0 and list every --flag the documented command uses (benchmarks that
//   take minutes to hours).
// - script: `pnpm docs:api` is a root script of package.json (its typedoc half is a step of `pnpm test`).
// - skip: not run, with the reason printed (the clone itself, this test command, GPU-only steps, unpublished
//   installs that scripts/check-packages.mjs covers with the packed tarballs).
// A ```js block that names a file of apps/cli/examples in its first comment must equal that file.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const FASHION = "/usr/share/datasets/fashion-mnist";
const TINY = {
  pretrain: "--steps 4 --eval-every 2",
  finetune: "--steps 4 --refresh-every 2",
  "finetune-head": "--steps 4 --refresh-every 2 --init-steps 2",
  demo: "--quick",
};
const fromTarballs = "not published yet: scripts/check-packages.mjs installs the packed tarballs with npm instead";

/** First match wins. `how` is "run", "help" or "skip"; `reason` is printed for skip. */
const RULES = [
  { match: /^git clone /, how: "skip", reason: "the clone itself (this check runs inside one)" },
  { match: /^npm install -g pnpm@\S+ && pnpm install --frozen-lockfile && pnpm build && (pnpm -s selmix demo)$/, how: "run", only: 1, reason: "install and build are .ci/run's own steps; the demo part is run" },
  { match: /^(FC_NUM_RUNS=\d+ )?pnpm test$/, how: "skip", reason: "the command running this check" },
  { match: /^npm install (-g )?@selmix\//, how: "skip", reason: fromTarballs },
  { match: /^npm install @tensorflow\/tfjs-core@4\.22\.0$/, how: "skip", reason: "scripts/check-packages.mjs's consumer installs exactly this" },
  { match: /tfjs-node-gpu|SELMIX_BACKEND=tensorflow-gpu|TFJS_NODE_BASE_URI=|http\.server|^pnpm install$/, how: "skip", reason: "GPU machine only" },
  { match: /^pnpm changeset$/, how: "skip", reason: "interactive" },
  { match: /^pnpm docs$/, how: "skip", reason: "named as the pnpm builtin that is not ours" },
  { match: /^pnpm pack$|^npm install \.\/selmix-[\w-]+-0\.0\.0\.tgz$/, how: "skip", reason: "scripts/check-packages.mjs packs every package and installs the tarballs with npm" },
  { match: /^pnpm (install && pnpm build|build|typecheck|lint|docs:cli)$|^pnpm install && TURBO_TELEMETRY_DISABLED=1 pnpm exec turbo run build --filter @selmix\/bench\.\.\.$/, how: "run" },
  { match: /^pnpm docs:api$/, how: "script", reason: "a root script (not a pnpm builtin); typedoc, its second half, is a step of pnpm test" },
  { match: /<[a-z]+>|\.\.\./, how: "skip", reason: "a placeholder, not a command" },
  { match: /^pnpm -s selmix( [a-z][\w-]*)?$/, how: "run", suffix: " --help", reason: "a command named in prose: its --help" },
  { match: /^pnpm (-s )?selmix |^selmix |^echo .* > [\w.-]+$/, how: "run" },
  { match: /^pnpm bench \w[\w-]*( |$)/, how: "help" },
  { match: /^pnpm --filter @selmix\/(gain|models|core) (build|bench)/, how: "skip", reason: "a benchmark measuring for minutes (`pnpm bench speed` runs it, and its --help is checked)" },
];

function documents() {
  const md = (dir) => (existsSync(join(root, dir)) ? readdirSync(join(root, dir)).filter((f) => f.endsWith(".md")).map((f) => join(dir, f)) : []);
  const readmes = (group) => readdirSync(join(root, group)).map((p) => join(group, p, "README.md")).filter((p) => existsSync(join(root, p)));
  return ["README.md", ...md("docs/guides").filter((p) => !p.endsWith("cli-reference.md")), ...readmes("packages"), ...readmes("apps")];
}

/** The commands of one Markdown file, in order, with their line numbers. */
function commandsOf(file) {
  const lines = readFileSync(join(root, file), "utf8").split("\n");
  const out = [];
  let fence = null;
  let pending = null;
  lines.forEach((line, i) => {
    const open = /^\s*```(\w*)/.exec(line);
    if (open) {
      fence = fence === null ? open[1] : null;
      return;
    }
    if (fence === "sh" || fence === "bash" || fence === "shell") {
      const text = line.replace(/\s+#.*$/, "").replace(/^\s*#.*$/, "").trim();
      if (pending !== null) {
        pending.text += ` ${text.replace(/\\$/, "").trim()}`;
        if (!text.endsWith("\\")) {
          out.push(pending);
          pending = null;
        }
      } else if (text !== "") {
        const item = { file, line: i + 1, text: text.replace(/\\$/, "").trim() };
        if (text.endsWith("\\")) pending = item;
        else out.push(item);
      }
      return;
    }
    if (fence !== null) return;
    for (const m of line.matchAll(/`((?:pnpm|npm|node|FC_NUM_RUNS=\d+) [^`]+)`/g)) out.push({ file, line: i + 1, text: m[1].trim() });
  });
  return out;
}

function sandbox() {
  const dir = mkdtempSync(join(tmpdir(), "selmix-doc-commands-"));
  for (const name of ["package.json", "pnpm-workspace.yaml", "node_modules", "apps", "packages", "scripts"]) symlinkSync(join(root, name), join(dir, name));
  mkdirSync(join(dir, "bin"));
  writeFileSync(join(dir, "bin", "selmix"), `#!/bin/sh\nexec node ${join(root, "apps/cli/dist/main.js")} "$@"\n`, { mode: 0o755 });
  return dir;
}

/** The .npy files bring-your-own-backbone.md exports from PyTorch, small: K = 3 classes, d = 4 features. */
async function writeExportedFeatures(dir) {
  const { writeNpy } = await import(join(root, "packages/trainers/dist/index.js"));
  const k = 3;
  const d = 4;
  const split = (name, perClass, seed) => {
    const n = k * perClass;
    const x = new Float32Array(n * d);
    const y = new Int32Array(n);
    for (let s = 0; s < n; s++) {
      y[s] = s % k;
      for (let t = 0; t < d; t++) x[s * d + t] = (t === y[s] ? 2 : 0) + Math.sin(seed * 97 + s * 13 + t * 7);
    }
    writeNpy(join(dir, `${name}-features.npy`), x, [n, d]);
    writeNpy(join(dir, `${name}-labels.npy`), y, [n]);
  };
  split("train", 20, 1);
  split("val", 6, 2);
  split("test", 6, 3);
  writeNpy(join(dir, "head-weights.npy"), Float32Array.from({ length: k * d }, (_, i) => (Math.floor(i / d) === i % d ? 1 : 0)), [k, d]);
  writeNpy(join(dir, "head-bias.npy"), new Float32Array(k), [k]);
}

/** The runnable form: tiny step counts appended to each training command of a `&&` chain. */
function withTinySteps(text) {
  return text
    .split(" && ")
    .map((part) => {
      const sub = /^(?:pnpm (?:-s )?selmix|selmix) ([\w-]+)/.exec(part)?.[1];
      return sub !== undefined && TINY[sub] !== undefined ? `${part} ${TINY[sub]}` : part;
    })
    .join(" && ");
}

/** The --flags of a command, not those inside a quoted argument (they belong to the program it is passed to). */
function flagsIn(text) {
  const unquoted = text.replace(/'[^']*'|"[^"]*"/g, "");
  return [...unquoted.matchAll(/(?:^|\s)(--[a-z][\w-]*)/g)].map((m) => m[1]);
}

const started = Date.now();
const dir = sandbox();
const results = { run: 0, help: 0, skip: 0 };
let failed = 0;
const report = (status, item, detail) => console.log(`${status} ${item.file}:${item.line}: ${item.text}${detail ? `  [${detail}]` : ""}`);
try {
  execFileSync("pnpm", ["exec", "turbo", "run", "build", "--filter", "@selmix/cli", "--filter", "@selmix/bench", "--output-logs=errors-only"], { cwd: root, stdio: "inherit" });
  await writeExportedFeatures(dir);
  const env = { ...process.env, PATH: `${join(dir, "bin")}:${process.env.PATH}`, SELMIX_BACKEND: "wasm" };
  const seen = new Set();
  for (const file of documents()) {
    for (const item of commandsOf(file)) {
      const rule = RULES.find((r) => r.match.test(item.text));
      if (rule === undefined) {
        report("FAIL", item, "no rule in scripts/check-doc-commands.mjs says how to check this command");
        failed++;
        continue;
      }
      if (rule.how === "skip") {
        report("skip", item, rule.reason);
        results.skip++;
        continue;
      }
      if (/fashion-mnist/.test(item.text) && !existsSync(FASHION)) {
        report("skip", item, `needs ${FASHION} (apt-get install dataset-fashion-mnist; .ci/run installs it)`);
        results.skip++;
        continue;
      }
      if (rule.how === "script") {
        const name = item.text.replace(/^pnpm /, "");
        const scripts = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts;
        if (scripts[name] === undefined) {
          report("FAIL", item, `package.json has no script "${name}"`);
          failed++;
        } else report("ok  ", item, rule.reason);
        results.help++;
        continue;
      }
      if (rule.how === "help") {
        const [, sub] = /^pnpm bench ([\w-]+)/.exec(item.text);
        const help = spawnSync("pnpm", ["-s", "bench", sub, "--help"], { cwd: root, encoding: "utf8", env });
        const missing = flagsIn(item.text).filter((flag) => !help.stdout.includes(flag));
        if (help.status !== 0 || missing.length > 0) {
          report("FAIL", item, help.status !== 0 ? `--help exited ${help.status}: ${help.stderr.trim()}` : `--help does not list ${missing.join(", ")}`);
          failed++;
        } else report("help", item, "--help lists its flags");
        results.help++;
        continue;
      }
      const written = rule.only === undefined ? item.text : rule.match.exec(item.text)[rule.only];
      const command = rule.suffix === undefined ? withTinySteps(written) : `${written}${rule.suffix}`;
      if (seen.has(command)) {
        report("ok  ", item, "same command ran above");
        results.run++;
        continue;
      }
      seen.add(command);
      const inRepo = !/(^|&& )(pnpm (-s )?selmix|selmix)( |$)|^echo /.test(command);
      const t0 = Date.now();
      const result = spawnSync("bash", ["-c", command], { cwd: inRepo ? root : dir, encoding: "utf8", env, maxBuffer: 64 << 20 });
      const took = `${((Date.now() - t0) / 1000).toFixed(1)} s`;
      const shown = [command === item.text ? undefined : `ran: ${command}`, rule.reason, took].filter((x) => x !== undefined).join("; ");
      if (result.status !== 0) {
        report("FAIL", item, `exit ${result.status}: ${(result.stderr || result.stdout).trim().split("\n").slice(-3).join(" | ")}`);
        failed++;
      } else report("ok  ", item, shown);
      results.run++;
    }
  }
  // The shipped example modules are the ones the guides show.
  for (const file of documents()) {
    const text = readFileSync(join(root, file), "utf8");
    for (const m of text.matchAll(/```js\n(\/\/ (apps\/cli\/examples\/[\w.-]+)[^\n]*\n[\s\S]*?)```/g)) {
      const same = existsSync(join(root, m[2])) && readFileSync(join(root, m[2]), "utf8") === m[1];
      console.log(`${same ? "ok  " : "FAIL"} ${file}: its js block is ${m[2]}${same ? "" : " (they differ)"}`);
      if (!same) failed++;
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const seconds = ((Date.now() - started) / 1000).toFixed(0);
console.log(`doc commands: ${results.run} run, ${results.help} checked by --help or package.json, ${results.skip} skipped, ${failed} failed (${seconds} s)`);
process.exit(failed > 0 ? 1 : 0);
