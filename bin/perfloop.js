#!/usr/bin/env node
// The installed `perfloop` command. Plain JavaScript that any Node can parse, so that an old Node
// gets a sentence instead of a syntax error: perfloop needs Node 22.13 or later (node:sqlite without
// a flag, the memory store's database). The CLI itself is the bundle dist/cli.js.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 13)) {
  process.stderr.write(
    `perfloop needs Node.js 22.13 or later; this is Node.js ${process.versions.node}.\n` +
      "Install a current release from https://nodejs.org (or run `nvm install 24`), then run perfloop again.\n",
  );
  process.exit(1);
}
await import(new URL("../dist/cli.js", import.meta.url).href);
