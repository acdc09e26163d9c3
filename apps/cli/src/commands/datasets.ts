import { join } from "node:path";
import { SelmixError } from "@selmix/core";
import {
  createManifest,
  type FileReport,
  inspectFile,
  loadSource,
  type Manifest,
  resolveProfile,
  writeManifest,
} from "@selmix/datasets";
import type { Command } from "commander";
import { action, parseInteger, printJson } from "../run.ts";
import { requireOutDir } from "../training/run-dir.ts";
import { type SplitFlags, withSplitOptions } from "../training/split-options.ts";
import { isTextSource } from "../training/text-source.ts";

interface BuildFlags extends SplitFlags {
  source: string;
  profile?: string;
  out: string;
  seed: number;
  dataDir?: string;
  strictChecksums?: boolean;
  json?: boolean;
}

/** The manifest as printed by `--json`: everything but the index lists (they are in the file). */
function summary(manifest: Manifest, path: string): unknown {
  const { splits, ...rest } = manifest;
  return { path, ...rest };
}

function printBuild(manifest: Manifest, path: string): void {
  const lines = [
    `manifest ${manifest.id.slice(0, 16)} written to ${path}`,
    `source ${manifest.source.name} (${manifest.source.height}x${manifest.source.width}x${manifest.source.channels}, ${manifest.source.numClasses} classes, checksums ${manifest.source.checksum})`,
    `profile ${manifest.profile.name}: N1=${manifest.profile.n1} rho_l=${manifest.profile.rhoL}` +
      (manifest.profile.rhoU === null ? "" : ` M1=${manifest.profile.m1} rho_u=${manifest.profile.rhoU}`) +
      `, seed ${manifest.seed}`,
  ];
  for (const split of ["labeled", "unlabeled", "validation", "test"] as const) {
    const counts = manifest.counts[split];
    lines.push(`${split.padEnd(10)} ${String(manifest.totals[split]).padStart(6)}  ${counts.length > 0 ? counts.join(" ") : "-"}`);
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

function printReport(report: FileReport, indent = ""): void {
  const lines = [
    `${indent}${report.file}`,
    `${indent}  format ${report.format}, ${report.count} records${report.shape.length > 0 ? ` of ${report.shape.join(" x ")}` : ""}`,
  ];
  if (report.labelHistogram !== undefined) lines.push(`${indent}  labels ${report.labelHistogram.map((n, k) => `${k}:${n}`).join(" ")}`);
  if (report.sha256 !== undefined) lines.push(`${indent}  sha256 ${report.sha256}`);
  process.stdout.write(`${lines.join("\n")}\n`);
  for (const member of report.members ?? []) printReport(member, `${indent}  `);
}

/** Adds `selmix datasets build` and `selmix datasets inspect`. */
export function registerDatasetsCommand(program: Command): void {
  const datasets = program.command("datasets").description("long-tailed dataset splits (manifests) and data file checks");

  const build = datasets
    .command("build")
    .description("draw a long-tailed profile from a source and write DIR/manifest.json")
    .requiredOption("--source <name>", "(required) mnist | fashion-mnist | cifar10 | cifar100 | stl10 | wordnet-nouns | wordnet-nouns-lemmas")
    .requiredOption("--out <dir>", "(required) output folder (manifest.json is written there atomically)")
    .option("--profile <name>", "supervised | semi-supervised | cifar100 | stl10 | natural (default: natural for text sources, else supervised)")
    .option("--seed <n>", "random seed", parseInteger, 0);
  withSplitOptions(build)
    .option("--data-dir <dir>", "folder with the data files (default: $SELMIX_DATA_DIR)")
    .option("--strict-checksums", "fail (CHECKSUM_MISMATCH) instead of warning when the data differ from the known SHA-256")
    .option("--json", "print the manifest (without index lists) as JSON")
    .action(
      action(async (flags: BuildFlags) => {
        requireOutDir(flags.out);
        const params = resolveProfile(flags.profile ?? (isTextSource(flags.source) ? "natural" : "supervised"), {
          ...(flags.n1 === undefined ? {} : { n1: flags.n1 }),
          ...(flags.rho === undefined ? {} : { rho: flags.rho }),
          ...(flags.rhoL === undefined ? {} : { rhoL: flags.rhoL }),
          ...(flags.m1 === undefined ? {} : { m1: flags.m1 }),
          ...(flags.rhoU === undefined ? {} : { rhoU: flags.rhoU }),
          ...(flags.valPerClass === undefined ? {} : { valPerClass: flags.valPerClass }),
          ...(flags.balancedTest === undefined ? {} : { balancedTest: true }),
        });
        if (!Number.isSafeInteger(flags.seed)) throw new SelmixError("INVALID_VALUE", `--seed must be an integer, got ${flags.seed}`);
        const source = await loadSource(flags.source, {
          ...(flags.dataDir === undefined ? {} : { dataDir: flags.dataDir }),
          checksums: flags.strictChecksums ? "strict" : "warn",
        });
        for (const warning of source.warnings) process.stderr.write(`selmix: warning: ${warning}\n`);
        const manifest = createManifest(source, params, flags.seed);
        const path = join(flags.out, "manifest.json");
        writeManifest(path, manifest);
        if (flags.json) printJson(summary(manifest, path));
        else printBuild(manifest, path);
      }),
    );

  datasets
    .command("inspect")
    .description("validate a data file and print its format, shape, count and label histogram")
    .argument("<file>", "IDX (.gz or raw), CIFAR .bin or .tar.gz, STL-10 *_X.bin / *_y.bin")
    .option("--format <format>", "idx | cifar10 | cifar100 | stl10-images | stl10-labels | tar (default: guessed)")
    .option("--json", "print the report as JSON")
    .action(
      action(async (file: string, flags: { format?: string; json?: boolean }) => {
        const report = await inspectFile(file, flags.format);
        if (flags.json) printJson(report);
        else printReport(report);
      }),
    );
}
