/**
 * `perfloop init [dir] [--force] [--workflows]`: detects the project (src/core/init/, reading files
 * only), writes `.github/perfloop.yml` from what it found (and, with `workflows`, the GitHub
 * workflow of init-workflow.ts), and explains every guess with its evidence. Orchestration only;
 * the CLI's argument parsing and exit codes live in main.ts.
 */
import { stat } from "node:fs/promises";
import { CONFIG_PATH, parseConfigText } from "../core/config/load.ts";
import { detectProject } from "../core/init/detect.ts";
import { InitError } from "../core/init/errors.ts";
import { explainDetection } from "../core/init/explain.ts";
import { renderConfig } from "../core/init/render-config.ts";
import type { Detection } from "../core/init/types.ts";
import { type FileToWrite, writeProjectFiles } from "../core/init/write.ts";
import { initWorkflow, WORKFLOW_PATH } from "./init-workflow.ts";

export { InitError, type InitErrorCode } from "../core/init/errors.ts";
export type { Detection } from "../core/init/types.ts";

/** What to initialise. */
export interface InitOptions {
  /** The project directory (relative to the working directory, or absolute). */
  dir: string;
  /** Replace existing files (regular files only: a symbolic link is never written through). */
  force: boolean;
  /** Also write `.github/workflows/perfloop.yml`. */
  workflows: boolean;
}

/** Where init writes: `out` gets the explanation, `err` the warnings about placeholders. */
export interface InitIo {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

/** What init did. */
export interface InitOutcome {
  /** Project-relative paths written, in order: `.github/perfloop.yml`, then the workflow when asked. */
  written: string[];
  /** Everything detected, with its evidence. */
  detection: Detection;
  /** True when a benchmark command was found; false when the config holds the failing placeholder. */
  benchmarkFound: boolean;
  /** True when a test command was found; false when `test` is the failing placeholder. */
  testFound: boolean;
}

/**
 * Runs `perfloop init`: detect, render, write (every target checked before anything is written),
 * explain.
 * @throws InitError `no-directory` when `dir` is not a directory; `exists` (a file to write is
 *   there and `force` is false; the message names the file and --force), `symlink`, `not-a-file`
 *   or `io` from the write. Nothing is written when any target is refused.
 */
export async function runInit(options: InitOptions, io: InitIo): Promise<InitOutcome> {
  const isDir = await stat(options.dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir)
    throw new InitError(
      "no-directory",
      options.dir,
      `${options.dir} is not a directory: name the project to initialise`,
    );
  const detection = await detectProject(options.dir);
  const config = renderConfig(detection);
  // A config init wrote must load: check it before it reaches the disk (a failure here is a bug).
  parseConfigText(config, CONFIG_PATH);
  const files: FileToWrite[] = [{ rel: CONFIG_PATH, text: config }];
  if (options.workflows) files.push({ rel: WORKFLOW_PATH, text: initWorkflow() });
  const written = await writeProjectFiles(options.dir, files, options.force);

  // The explanation lists what is missing ("To fill in"); what comes next is main.ts's to say.
  io.out.write(explainDetection(detection, options.dir, written));
  if (options.workflows)
    io.out.write(
      `In ${WORKFLOW_PATH}: set runs-on to your runner's labels and add the OPENAI_API_KEY secret for LLM rewrites (docs/action.md).\n`,
    );
  return {
    written,
    detection,
    benchmarkFound: detection.benchmark !== null,
    testFound: detection.test !== null,
  };
}
