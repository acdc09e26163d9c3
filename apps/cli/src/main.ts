#!/usr/bin/env node
import { buildProgram } from "./program.ts";

await (await buildProgram(process.argv.slice(2))).parseAsync(process.argv);
