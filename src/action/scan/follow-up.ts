/**
 * Follow-up pull requests of scans: a verified improvement of the default branch becomes a PR
 * against it, from branch `perfloop/scan-<first 12 hex digits of sha256(final.patch)>` — the same
 * change always gets the same branch, so it is never proposed twice while its PR is open, nor again
 * after its PR was closed. At most `max-open-prs` scan PRs are open at a time. The commit is made
 * from the checkout the scan measured (`git apply` of final.patch, then a push that never forces).
 */
import { createHash } from "node:crypto";
import type { Results } from "../../core/evidence/results-schema.ts";
import { headline } from "../../core/report/comparison.ts";
import { clipText, codeSpan } from "../../core/report/escape.ts";
import { renderReport } from "../../core/report/report.ts";
import { COMMIT_TRAILER, type GitHubClient, type RepoRef, type RunLinks } from "../../publish/index.ts";
import { pushPatchBranch, type Remote } from "../git.ts";

/** Scan branches start with this. */
export const SCAN_BRANCH_PREFIX = "perfloop/scan-";

/** What happened to a scan's improvement. */
export type ScanFollowUp =
  | { status: "created"; number: number; url: string; branch: string }
  | { status: "skipped"; reason: string; branch: string; pr?: number };

/** The branch of a patch: `perfloop/scan-` + 12 hex digits of its SHA-256 (line endings normalized). */
export function scanBranch(patch: string): string {
  const digest = createHash("sha256").update(patch.replace(/\r\n/g, "\n")).digest("hex");
  return `${SCAN_BRANCH_PREFIX}${digest.slice(0, 12)}`;
}

/** An open scan PR. */
export interface OpenScanPr {
  branch: string;
  number: number;
}

/**
 * Whether to open a PR from `branch`: not when one from it is open, nor when `max` scan PRs are open.
 * @returns null to go ahead, else the reason (a sentence) and the PR it refers to.
 */
export function refusal(
  branch: string,
  open: readonly OpenScanPr[],
  max: number,
): { reason: string; pr?: number } | null {
  const same = open.find((p) => p.branch === branch);
  if (same)
    return {
      reason: "the same change is already proposed in a pull request that is still open",
      pr: same.number,
    };
  if (max === 0) return { reason: "max-open-prs is 0" };
  if (open.length >= max)
    return {
      reason: `${open.length} scan PR${open.length === 1 ? " is" : "s are"} open already (max-open-prs: ${max}); merge or close one`,
    };
  return null;
}

/** The open PRs of this repository whose head branch is a scan branch. */
export async function openScanPrs(client: GitHubClient, repo: RepoRef): Promise<OpenScanPr[]> {
  const pulls = (await client.paginate(client.rest.pulls.list, {
    ...repo,
    state: "open",
    per_page: 100,
  })) as Array<{ number: number; head: { ref: string; repo: { full_name: string } | null } }>;
  return pulls
    .filter(
      (p) =>
        p.head.ref.startsWith(SCAN_BRANCH_PREFIX) && p.head.repo?.full_name === `${repo.owner}/${repo.repo}`,
    )
    .map((p) => ({ branch: p.head.ref, number: p.number }));
}

/** What opening needs. `patchFile` is final.patch on disk; `directory` the working directory. */
export interface ScanFollowUpRequest {
  remote: Remote;
  checkoutRoot: string;
  directory: string;
  patch: string;
  patchFile: string;
  defaultBranch: string;
  sha: string;
  requestId: string;
  results: Results;
  links: RunLinks;
  maxOpen: number;
  draft: boolean;
}

/**
 * Opens the follow-up PR of a scan's verified improvement, or says why not.
 * @throws RequestError for API failures other than a refused draft; GitError is reported as skipped.
 */
export async function openScanFollowUp(
  client: GitHubClient,
  repo: RepoRef,
  req: ScanFollowUpRequest,
): Promise<ScanFollowUp> {
  const branch = scanBranch(req.patch);
  const skip = (reason: string, pr?: number): ScanFollowUp => ({
    status: "skipped",
    reason,
    branch,
    ...(pr !== undefined ? { pr } : {}),
  });
  const refused = refusal(branch, await openScanPrs(client, repo), req.maxOpen);
  if (refused) return skip(refused.reason, refused.pr);
  const { data: closed } = await client.rest.pulls.list({
    ...repo,
    state: "closed",
    head: `${repo.owner}:${branch}`,
    per_page: 1,
  });
  if (closed[0])
    return skip(
      `the same change was proposed before in #${closed[0].number}, which was closed; it is not proposed again`,
    );
  const message = `perf: perfloop's verified optimization of ${req.defaultBranch}\n\n${COMMIT_TRAILER} ${req.requestId}\nPerfloop-Head: ${req.sha}\n`;
  try {
    await pushPatchBranch(req.remote, req.checkoutRoot, {
      patchFile: req.patchFile,
      directory: req.directory,
      branch,
      message,
    });
  } catch (error) {
    return skip(`the branch could not be pushed: ${clipText((error as Error).message, 500)}`);
  }
  const create = (draft: boolean) =>
    client.rest.pulls.create({
      ...repo,
      title: scanTitle(req.results, req.defaultBranch),
      head: branch,
      base: req.defaultBranch,
      body: scanBody(req),
      draft,
    });
  try {
    const { data } = await create(req.draft);
    return { status: "created", number: data.number, url: data.html_url, branch };
  } catch (error) {
    const text = JSON.stringify((error as { response?: { data?: unknown } }).response?.data ?? "");
    if (!req.draft || (error as { status?: number }).status !== 422 || !/draft/i.test(text)) throw error;
    const { data } = await create(false);
    return { status: "created", number: data.number, url: data.html_url, branch };
  }
}

/** "perf: 1.62× faster (perfloop scan of main)", plain text, ≤ 120 characters. */
function scanTitle(results: Results, branch: string): string {
  const primary = results.final?.primary;
  const what = primary ? `${headline(primary).replace(/\*\*/g, "").replace(/\\/g, "")} ` : "";
  return clipText(`perf: ${what}(perfloop scan of ${branch})`, 120).replace(/[\r\n]+/g, " ");
}

/** The PR body: what it is, the report, the links. */
function scanBody(req: ScanFollowUpRequest): string {
  const intro = `perfloop's scheduled scan of ${codeSpan(req.defaultBranch)} at ${codeSpan(req.sha.slice(0, 12))} found this verified improvement. Merging applies \`final.patch\` from the scan's evidence. Review it like any other change.`;
  const links = [
    req.links.runUrl ? `[workflow run](${req.links.runUrl})` : null,
    req.links.artifactUrl ? `[evidence artifact](${req.links.artifactUrl})` : null,
    `request ${codeSpan(req.requestId)}`,
  ].filter((l) => l !== null);
  const report = renderReport(req.results, {
    maxChars: 58_000,
    ...(req.links.artifactUrl ? { fullReportUrl: req.links.artifactUrl } : {}),
  });
  return `${intro}\n\n${report.trimEnd()}\n\n<sub>${links.join(" · ")}</sub>`;
}
