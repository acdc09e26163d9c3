/** The bench invocation as a shell command that runs again when pasted: arguments with spaces or quotes are quoted. */
export function benchCommandLine(args: readonly string[] = process.argv.slice(2)): string {
  const quote = (arg: string): string => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`);
  return ["pnpm", "bench", ...args.map(quote)].join(" ");
}
