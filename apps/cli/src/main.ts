#!/usr/bin/env node
import { endOnBrokenPipe, runCommandLine } from "@selmix/core/node";
import { buildProgram } from "./program.ts";

const args = process.argv.slice(2);
endOnBrokenPipe(process.stdout, "selmix"); // `selmix ... --json | head` is a normal end
await runCommandLine(await buildProgram(args), args);
