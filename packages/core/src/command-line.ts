import { reportError } from "./command-errors.ts";
import { SelmixError } from "./errors.ts";

/** The part of a commander `Command` that {@link runCommandLine} uses (core does not depend on commander). */
export interface CommandLine {
  /** The command's name. */
  name(): string;
  /** Other names of the command. */
  aliases(): string[];
  /** Its subcommands. */
  readonly commands: readonly CommandLine[];
  /** Throw instead of calling `process.exit`. */
  exitOverride(): unknown;
  /** Where help and errors are written. */
  configureOutput(output: { outputError?: (message: string, write: (text: string) => void) => void }): unknown;
  /** Parses the arguments (without `node` and the script) and runs the action. */
  parseAsync(argv: readonly string[], options: { from: "user" }): Promise<unknown>;
}

/** commander's errors carry a `commander.*` code and the exit code it would have used. */
function commanderError(error: unknown): { code: string; exitCode: number; message: string } | undefined {
  const e = error as { code?: unknown; exitCode?: unknown; message?: unknown };
  if (typeof e?.code !== "string" || !e.code.startsWith("commander.") || typeof e.exitCode !== "number") return undefined;
  return { code: e.code, exitCode: e.exitCode, message: String(e.message) };
}

function configure(command: CommandLine): void {
  command.exitOverride();
  command.configureOutput({ outputError: () => {} }); // reported as one coded line instead
  for (const sub of command.commands) configure(sub);
}

/**
 * Leading words of `args` must name commands, down to a command without subcommands: commander would otherwise
 * answer `prog typo --help` with the top-level help and exit 0.
 */
function checkCommandWords(program: CommandLine, args: readonly string[]): void {
  let command = program;
  const path = [program.name()];
  for (const word of args) {
    if (word.startsWith("-") || command.commands.length === 0) return;
    if (word === "help" && command === program) return;
    const next = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (next === undefined) {
      const names = command.commands.map((c) => c.name()).join(", ");
      throw new SelmixError("USAGE", `unknown command '${word}' for '${path.join(" ")}' (commands: ${names})`);
    }
    command = next;
    path.push(word);
  }
}

/**
 * Runs a commander program on `args` with one error contract: an unknown command or option, a missing required
 * flag or a malformed value is one line `<program>: USAGE: message` and exit code 2; a failure inside an action
 * (reported by {@link withOneLineErrors}) is one coded line and exit code 1; help and version exit 0.
 *
 * @param program - The commander program (its subcommands are configured too).
 * @param args - The arguments after `node script`.
 * @example
 * {@includeCode ./examples.test.ts#runCommandLine}
 */
export async function runCommandLine(program: CommandLine, args: readonly string[]): Promise<void> {
  configure(program);
  try {
    checkCommandWords(program, args);
    await program.parseAsync(args, { from: "user" });
  } catch (error) {
    const c = commanderError(error);
    if (c === undefined) return reportError(program.name(), error);
    if (c.exitCode === 0 || c.code === "commander.help" || c.code === "commander.helpDisplayed") {
      process.exitCode = c.exitCode === 0 ? 0 : 2; // help was printed (on stderr when a command was missing)
      return;
    }
    reportError(program.name(), new SelmixError("USAGE", `${c.message.replace(/^error: /, "")} (see --help)`));
  }
}

/**
 * A reader that closes the pipe early (`prog --json | head -c 10`) is a normal end, not a crash: on `EPIPE`,
 * `onEnd` runs (by default the process exits with its current exit code). Other stream errors are reported as
 * one `IO_ERROR` line.
 *
 * @example
 * {@includeCode ./examples.test.ts#endOnBrokenPipe}
 */
export function endOnBrokenPipe(
  stream: NodeJS.WritableStream,
  program: string,
  onEnd: () => void = () => process.exit(Number(process.exitCode ?? 0)),
): void {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") return onEnd(); // the reader hung up
    reportError(program, new SelmixError("IO_ERROR", `cannot write the output (${error.code ?? error.message})`));
    onEnd();
  });
}
