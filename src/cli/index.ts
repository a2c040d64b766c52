#!/usr/bin/env node
// perfloop's command-line entry: no logic here (see main.ts).
import { main } from "./main.ts";

process.exitCode = await main(process.argv.slice(2));
