#!/usr/bin/env node
import { endOnBrokenPipe, runCommandLine } from "@selmix/core/node";
import { buildProgram } from "./program.ts";

endOnBrokenPipe(process.stdout, "bench");
await runCommandLine(buildProgram(), process.argv.slice(2));
