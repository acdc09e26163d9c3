// What a consumer of the published packages gets, checked on the real tarballs (part of `pnpm test`):
// 1. `pnpm pack` of every public package; no tarball holds a test file.
// 2. arethetypeswrong (`attw --profile esm-only`) on each tarball with types: the packages are ESM only, on purpose.
// 3. A consumer project outside the workspace installs the tarballs with npm (third-party dependencies from the
//    npm registry or npm's cache, nothing else) and type-checks consumer.ts, which imports every entry point, with
//    `strict` and without `skipLibCheck`, under TypeScript 5.9 and 6.0, with nodenext and with bundler resolution.
// Needs `pnpm build` first (the tarballs hold dist/). Prints one line per check; exits 1 on the first failure.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const root = resolve(import.meta.dirname, "..");
const exec = promisify(execFile);
const run = async (cmd, args, cwd) => (await exec(cmd, args, { cwd, encoding: "utf8", maxBuffer: 64 << 20 })).stdout;
const started = Date.now();
const log = (message) => console.log(`${message} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
const fail = (message) => {
  console.error(`check-packages: ${message}`);
  process.exit(1);
};
/** Runs the tasks two at a time (the CI machine has two cores). */
async function twoAtATime(tasks) {
  const results = [];
  let next = 0;
  const lane = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  };
  await Promise.all([lane(), lane()]);
  return results;
}

const packages = ["packages", "apps"]
  .flatMap((group) => readdirSync(join(root, group)).map((name) => join(root, group, name)))
  .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) }))
  .filter(({ manifest }) => !manifest.private);
// The CLI is a command (a bin, no exports): it has no types for a consumer.
const libraries = packages.filter(({ manifest }) => manifest.exports !== undefined);
const tarball = (dir, manifest) => join(dir, `${manifest.name.replace("@", "").replace("/", "-")}-${manifest.version}.tgz`);

const work = mkdtempSync(join(tmpdir(), "selmix-packages-"));
try {
  const tarballs = join(work, "tarballs");
  mkdirSync(tarballs);
  await twoAtATime(packages.map(({ dir }) => () => run("pnpm", ["pack", "--pack-destination", tarballs], dir)));
  for (const { manifest } of packages) {
    const entries = (await run("tar", ["tzf", tarball(tarballs, manifest)])).split("\n");
    const tests = entries.filter((entry) => /\.test\.[cm]?[jt]s$/.test(entry) || entry.includes("/testing/"));
    if (tests.length > 0) fail(`${manifest.name}: the tarball ships test files: ${tests.join(", ")}`);
  }
  log(`packed ${packages.length} packages with pnpm pack; no test file in any tarball`);

  const consumer = join(work, "consumer");
  mkdirSync(consumer);
  const deps = Object.fromEntries(libraries.map(({ manifest }) => [manifest.name, `file:${tarball(tarballs, manifest)}`]));
  const typesNode = JSON.parse(readFileSync(join(root, "node_modules/@types/node/package.json"), "utf8")).version;
  writeFileSync(
    join(consumer, "package.json"),
    JSON.stringify({ name: "selmix-consumer", private: true, type: "module", dependencies: { ...deps, "@tensorflow/tfjs-core": "4.22.0" }, devDependencies: { "@types/node": typesNode } }),
  );
  writeFileSync(join(consumer, "consumer.ts"), consumerSource());
  // TypeScript 5 with its defaults. TypeScript 6 no longer includes every @types package: a Node project names "node".
  for (const [major, extra] of [["5", {}], ["6", { types: ["node"] }]]) {
    const strict = { strict: true, noEmit: true, skipLibCheck: false, ...extra };
    const write = (resolution, options) => writeFileSync(join(consumer, `tsconfig.${major}.${resolution}.json`), JSON.stringify({ compilerOptions: { ...strict, ...options }, files: ["consumer.ts"] }));
    write("nodenext", { module: "nodenext", moduleResolution: "nodenext" });
    write("bundler", { module: "preserve", moduleResolution: "bundler" }); // no target: bundler projects often leave the default
  }

  const attw = join(root, "node_modules/@arethetypeswrong/cli/dist/index.js");
  const install = () =>
    // npm, as most consumers use: a flat node_modules. The tarballs' dependencies on each other (^0.0.0) are met by
    // the tarballs themselves; the rest comes from the npm registry (or npm's cache).
    run("npm", ["install", "--prefer-offline", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], consumer);
  const checks = libraries.map(({ manifest }) => async () => {
    try {
      await run(process.execPath, [attw, tarball(tarballs, manifest), "--profile", "esm-only", "--format", "ascii"], work);
    } catch (e) {
      fail(`attw --profile esm-only flags ${manifest.name}:\n${e.stdout}${e.stderr}`);
    }
  });
  await twoAtATime([install, ...checks]);
  log(`attw --profile esm-only: ${libraries.map(({ manifest }) => manifest.name).join(", ")} clean; consumer installed with npm`);

  const compilers = { 5: join(root, "node_modules/typescript-5/lib/tsc.js"), 6: join(root, "node_modules/typescript/lib/tsc.js") };
  const runs = ["5", "6"].flatMap((major) => ["nodenext", "bundler"].map((resolution) => ({ major, resolution })));
  await twoAtATime(
    runs.map(({ major, resolution }) => async () => {
      const version = (await run(process.execPath, [compilers[major], "-v"])).trim().replace("Version ", "");
      let errors = [];
      try {
        await run(process.execPath, [compilers[major], "-p", `tsconfig.${major}.${resolution}.json`], consumer);
      } catch (e) {
        errors = `${e.stdout}`.split("\n").filter((line) => /error TS\d+/.test(line));
        if (errors.length === 0) fail(`TypeScript ${version}: ${e.stdout}${e.stderr}`);
      }
      // tfjs-core 4.22's own declarations do not check under TypeScript 6 (its DOM lib now declares the WebGPU
      // types that tfjs-core also pulls in from @webgpu/types, and tfjs-core uses a global `Long` it does not
      // import): an upstream defect, counted and reported. Any error in @selmix's declarations or consumer.ts fails,
      // and under TypeScript 5 any error at all.
      const upstream = (line) => /^node_modules\/(@tensorflow|@webgpu)\//.test(line) || /typescript\/lib\/lib\.dom\.d\.ts/.test(line);
      const ours = major === "5" ? errors : errors.filter((line) => !upstream(line));
      if (ours.length > 0) fail(`TypeScript ${version}, strict, ${resolution} resolution: the packed types do not check:\n${ours.join("\n")}`);
      const note = errors.length > 0 ? `; ${errors.length} errors inside tfjs-core 4.22 / @webgpu/types (upstream) ignored` : "";
      log(`consumer of the tarballs type-checks: TypeScript ${version}, strict, ${resolution} resolution, no skipLibCheck${note}`);
    }),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}

/** Imports every entry point and uses a few types, so every declaration file is loaded and checked. */
function consumerSource() {
  const entries = libraries.flatMap(({ manifest }) =>
    Object.keys(manifest.exports)
      .filter((key) => key !== "./package.json")
      .map((key) => (key === "." ? manifest.name : `${manifest.name}/${key.slice(2)}`)),
  );
  return `${entries.map((entry, i) => `import * as m${i} from "${entry}";`).join("\n")}
import { confusionMatrix, evaluateMetrics, type MetricReport } from "@selmix/metrics";
import { createModel } from "@selmix/models";
import { defaultFinetuneConfig, type FinetuneResult } from "@selmix/trainers";

export const modules = [${entries.map((_, i) => `m${i}`).join(", ")}];
const report: MetricReport = evaluateMetrics(confusionMatrix([[3, 1], [0, 4]]));
export const config = defaultFinetuneConfig("min-recall", "head-only");
export const model = createModel({ arch: "mlp", inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
export const selected = (result: FinetuneResult): number => result.selectedStep + report.meanRecall;
`;
}
