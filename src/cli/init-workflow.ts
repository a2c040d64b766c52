/**
 * The `.github/workflows/perfloop.yml` that `perfloop init --workflows` writes: one workflow with
 * three jobs, built from the texts the project already maintains rather than new ones —
 * - `optimize`: the App's dispatch workflow, src/app/workflow-template.ts `workflowTemplate()`
 *   (its inputs and `run-name` come from src/contract/), given an `if:` so it runs only on the
 *   App's dispatches, and its permissions moved from the top level onto the job;
 * - `scan`: the scheduled scan job of the repository's own .github/workflows/perfloop.yml
 *   (test/init-workflow.test.ts checks the two stay equal);
 * - `pr`: the standalone pull-request step of docs/action.md ("Without the App: publish: action"),
 *   opt-in through a repository variable, because with the App installed the same label already
 *   starts `optimize` and a second run would race it.
 * The top level grants nothing (`permissions: {}`); each job asks for what it uses, with the reason.
 */
import { type Document, isMap, isScalar, type Pair, parseDocument, type YAMLMap } from "yaml";
import { DEFAULT_LABEL } from "../app/config.ts";
import { workflowTemplate } from "../app/workflow-template.ts";
import { REQUIRED_DISPATCH_INPUTS } from "../contract/dispatch-inputs.ts";

/** Where the workflow is written, relative to the project. */
export const WORKFLOW_PATH = ".github/workflows/perfloop.yml";

/** The repository variable that turns on the standalone `pr` job. */
export const PUBLISH_VARIABLE = "PERFLOOP_PUBLISH";

/** The scan job, as in the repository's .github/workflows/perfloop.yml. */
const SCAN_JOB = `scan:
  # Scheduled scans are opt-in: set the repository variable PERFLOOP_SCAN to "true" once a GPU runner
  # is registered (otherwise the job would wait for a runner that does not exist). A manual run with
  # \`pr\` empty always scans.
  if: (github.event_name == 'schedule' && vars.PERFLOOP_SCAN == 'true') || (github.event_name == 'workflow_dispatch' && inputs.pr == '')
  runs-on: [self-hosted, gpu]
  timeout-minutes: 180
  permissions:
    contents: write # push the follow-up branch of a verified improvement (perfloop/scan-<hash>)
    pull-requests: write # open that follow-up PR against the default branch
    issues: write # create and update the "perfloop scan" tracking issue
  steps:
    - uses: actions/cache@v4
      with:
        path: \${{ runner.temp }}/perfloop-memory
        key: perfloop-memory-\${{ github.run_id }}-\${{ github.run_attempt }}
        restore-keys: perfloop-memory-
    - name: perfloop scan
      uses: perfloop/action@v1
      with:
        mode: scan
        rounds: \${{ inputs.rounds }}
        target: \${{ inputs.target }}
        strategy: \${{ inputs.strategy }}
        api-key: \${{ secrets.OPENAI_API_KEY }}
        max-open-prs: 2
        memory-path: \${{ runner.temp }}/perfloop-memory/memory.sqlite
`;

/** The standalone pull-request job of docs/action.md, opt-in (see the file's comment). */
const PR_JOB = `pr:
  # Without the App: the step publishes the comment, check run and follow-up PR itself
  # (docs/action.md, "Without the App"). Opt-in: set the repository variable ${PUBLISH_VARIABLE} to
  # "action" (with the App installed, its label already starts \`optimize\`). Only for pull requests
  # from branches of this repository, never forks: their code would run on your runner with these
  # permissions.
  if: github.event_name == 'pull_request' && vars.${PUBLISH_VARIABLE} == 'action' && github.event.label.name == '${DEFAULT_LABEL}' && github.event.pull_request.head.repo.full_name == github.repository
  runs-on: [self-hosted, gpu]
  timeout-minutes: 120
  permissions:
    contents: write # the follow-up branch
    pull-requests: write # the comment and the follow-up PR
    checks: write # the check run
  steps:
    - uses: perfloop/action@v1
      with:
        publish: action
        api-key: \${{ secrets.OPENAI_API_KEY }}
`;

/** Triggers added to the template's `workflow_dispatch`. */
const TRIGGERS = `pull_request:
  types: [labeled] # the standalone job (pr)
schedule:
  - cron: "17 3 * * 1" # the scan: Mondays 03:17 UTC
`;

/** The `pr` input's description where an empty `pr` means a scan. */
const PR_DESCRIPTION = "Pull request number (empty: a scan of the default branch)";

const HEADER = ` perfloop on your own GPU runner, written by \`perfloop init --workflows\` (docs/action.md).
 Change \`runs-on\` to your runner's labels.
 - optimize: the perfloop GitHub App dispatches it (an /optimize comment or the ${DEFAULT_LABEL} label).
 - scan: the schedule scans the default branch (opt-in: repository variable PERFLOOP_SCAN = "true").
 - pr: without the App, the ${DEFAULT_LABEL} label runs it (opt-in: ${PUBLISH_VARIABLE} = "action").`;

/** The pair of `map` whose key is `key`; throws when the template lacks it (a changed template). */
function pairOf(map: YAMLMap, key: string): Pair {
  const pair = map.items.find((p) => isScalar(p.key) && p.key.value === key);
  if (!pair) throw new Error(`workflowTemplate() has no \`${key}\`: update src/cli/init-workflow.ts`);
  return pair as Pair;
}

function mapOf(value: unknown, key: string): YAMLMap {
  if (!isMap(value))
    throw new Error(`workflowTemplate()'s \`${key}\` is not a mapping: update src/cli/init-workflow.ts`);
  return value;
}

/** The single top-level pair of a YAML snippet, comments kept. */
function pairFromText(doc: Document, text: string): Pair {
  const parsed = parseDocument(text);
  const pair = mapOf(parsed.contents, "snippet").items[0];
  if (!pair) throw new Error("empty snippet");
  return doc.createPair(pair.key, pair.value) as Pair;
}

/** The combined workflow's text (ends with a newline). */
export function initWorkflow(): string {
  const doc = parseDocument(workflowTemplate());
  const root = mapOf(doc.contents, "(top level)");
  const name = pairOf(root, "name");
  if (isScalar(name.key)) name.key.commentBefore = HEADER;

  // Pull requests (the standalone job) and the schedule (the scan) besides the App's dispatches.
  const on = mapOf(pairOf(root, "on").value, "on");
  for (const pair of mapOf(parseDocument(TRIGGERS).contents, "triggers").items)
    on.add(doc.createPair(pair.key, pair.value));
  // A scan is a dispatch with `pr` empty, so the request's inputs cannot be required here (the App
  // always sends them), as in the repository's .github/workflows/perfloop.yml.
  const inputs = mapOf(
    mapOf(pairOf(on, "workflow_dispatch").value, "on.workflow_dispatch").get("inputs"),
    "inputs",
  );
  for (const name of REQUIRED_DISPATCH_INPUTS) {
    const input = mapOf(inputs.get(name), `inputs.${name}`);
    input.set("required", false);
    input.set("default", "");
  }
  mapOf(inputs.get("pr"), "inputs.pr").set("description", PR_DESCRIPTION);

  // Nothing at the top level; the template's permissions go onto its job, comment and all.
  const permissions = pairOf(root, "permissions");
  const jobPermissions = doc.createPair("permissions", permissions.value);
  if (isScalar(jobPermissions.key) && isScalar(permissions.key))
    jobPermissions.key.commentBefore = permissions.key.commentBefore;
  permissions.value = doc.createNode({}, { flow: true });
  if (isScalar(permissions.key))
    permissions.key.commentBefore =
      " Nothing by default; each job asks for what it uses (below, with the reason).";

  // One run per pull request at a time (the App waits for each request's results: never cancel);
  // the standalone job's runs are keyed by their PR, scans share one group.
  const concurrency = mapOf(pairOf(root, "concurrency").value, "concurrency");
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a JS template
  concurrency.set("group", "perfloop-${{ inputs.pr || github.event.pull_request.number || 'scan' }}");

  const jobs = mapOf(pairOf(root, "jobs").value, "jobs");
  const optimize = mapOf(pairOf(jobs, "optimize").value, "jobs.optimize");
  const condition = doc.createPair("if", "github.event_name == 'workflow_dispatch' && inputs.pr != ''");
  if (isScalar(condition.key))
    condition.key.commentBefore = " The App's dispatches (a pull request number is set).";
  optimize.items.unshift(condition);
  const steps = optimize.items.findIndex((p) => isScalar(p.key) && p.key.value === "steps");
  optimize.items.splice(steps < 0 ? optimize.items.length : steps, 0, jobPermissions);

  jobs.add(pairFromText(doc, SCAN_JOB));
  jobs.add(pairFromText(doc, PR_JOB));
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}
