/**
 * The workflow a repository needs for the App to dispatch runs, shown in the reply to a missing or
 * disabled workflow and in docs/github-app.md. Its contract with the App: the six
 * `workflow_dispatch` inputs, the `run-name` (how results are matched to a request), and the
 * artifact name `perfloop-<request-id>` with `results.json` (and `final.patch`) at its root.
 */

/** The workflow file text for `.github/workflows/<file>`. */
export function workflowTemplate(file = "perfloop.yml"): string {
  return `# .github/workflows/${file}: dispatched by the perfloop GitHub App at the default branch.
name: perfloop
# The App matches results to its request by this name: keep it exactly so.
run-name: "perfloop #\${{ inputs.pr }} @ \${{ inputs.sha }} [\${{ inputs.request-id }}]"
on:
  workflow_dispatch:
    inputs:
      pr: { description: "Pull request number", required: true }
      sha: { description: "PR head commit to optimize", required: true }
      request-id: { description: "perfloop request id", required: true }
      rounds: { description: "Rounds (empty: config)", required: false, default: "" }
      target: { description: "Target improvement, % (empty: config)", required: false, default: "" }
      strategy: { description: "auto, llm or tune (empty: config)", required: false, default: "" }
permissions:
  contents: read
concurrency:
  group: perfloop-\${{ inputs.pr }}
  cancel-in-progress: false
jobs:
  optimize:
    runs-on: [self-hosted, gpu]
    timeout-minutes: 120
    steps:
      - uses: actions/checkout@v4
        with:
          ref: \${{ inputs.sha }}
          path: pr
          persist-credentials: false
      - name: perfloop
        uses: perfloop/action@v1
        with:
          path: pr
          out: out
          pr: \${{ inputs.pr }}
          sha: \${{ inputs.sha }}
          request-id: \${{ inputs.request-id }}
          rounds: \${{ inputs.rounds }}
          target: \${{ inputs.target }}
          strategy: \${{ inputs.strategy }}
      - uses: actions/upload-artifact@v4
        if: always()
        with:
          name: perfloop-\${{ inputs.request-id }}
          path: out/
          if-no-files-found: warn
`;
}
