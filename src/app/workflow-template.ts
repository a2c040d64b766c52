/**
 * The workflow a repository needs for the App to dispatch runs, shown in the reply to a missing or
 * disabled workflow and in docs/github-app.md. Its contract with the App: the
 * `workflow_dispatch` inputs (`mode` and `base` only for a performance gate, `app.gate`), the `run-name` (how results are matched to a request), and the
 * artifact `perfloop-<request-id>` with `results.json` (and `final.patch`) at its root — which the
 * perfloop Action (action.yml) uploads itself. The fuller example, with scheduled scans and the
 * memory cache, is .github/workflows/perfloop.yml (docs/action.md).
 */

import {
  DISPATCH_INPUT_NAMES,
  DISPATCH_INPUTS,
  REQUIRED_DISPATCH_INPUTS,
  RUN_NAME_EXPRESSION,
} from "../contract/index.ts";

/** The workflow file text for `.github/workflows/<file>`: inputs and run name from src/contract/. */
export function workflowTemplate(file = "perfloop.yml"): string {
  return `# .github/workflows/${file}: dispatched by the perfloop GitHub App at the default branch.
name: perfloop
# The App matches results to its request by this name: keep it exactly so.
run-name: "${RUN_NAME_EXPRESSION}"
on:
  workflow_dispatch:
    inputs:
${DISPATCH_INPUT_NAMES.map((name) => `      ${name}: { description: ${JSON.stringify(DISPATCH_INPUTS[name])}, required: ${REQUIRED_DISPATCH_INPUTS.includes(name)}${REQUIRED_DISPATCH_INPUTS.includes(name) ? "" : ', default: ""'} }`).join("\n")}
# The Action fetches the PR's head commit and reads which lines the PR changed (to rank hot spots);
# the App publishes with its own token. The one write, checks, is for the live checklist the App
# copies into the PR (a "perfloop progress" check run); without it the PR shows phases only.
permissions:
  contents: read
  pull-requests: read
  checks: write
concurrency:
  group: perfloop-\${{ inputs.pr }}
  cancel-in-progress: false
jobs:
  optimize:
    runs-on: [self-hosted, gpu]
    timeout-minutes: 120
    steps:
      # Checks the PR head out into a directory of its own, runs the loop (or, with mode gate, compares
      # the head with base), writes the job summary and uploads the evidence as perfloop-<request-id>.
      - name: perfloop
        uses: perfloop/action@v1
        with:
${DISPATCH_INPUT_NAMES.map((name) => `          ${name}: \${{ inputs.${name} }}`).join("\n")}
          # The App publishes (also a gate's \`perfloop gate\` check run): the job's token writes nothing else.
          publish: app
          api-key: \${{ secrets.OPENAI_API_KEY }}
`;
}
