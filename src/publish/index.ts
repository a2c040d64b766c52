/**
 * The publish module's public API (docs/design.md, "Layers": publish turns a results bundle into GitHub
 * output). The App and the Action import from here; everything takes an Octokit-compatible client
 * (see {@link GitHubClient}), a repository and plain values.
 */
export { hotSpotAnnotations, MAX_HOT_SPOT_ANNOTATIONS } from "./annotations.ts";
export {
  CHECK_NAME,
  type CheckAnnotation,
  type CheckOutput,
  type CheckRunInfo,
  concludeCheckRun,
  conclusionFor,
  createCheckRun,
  isActive,
  listPerfloopCheckRuns,
  updateCheckRun,
} from "./check-run.ts";
export {
  COMMIT_TRAILER,
  type FollowUpRequest,
  type FollowUpResult,
  followUpBranch,
  openFollowUpPr,
} from "./follow-up-pr.ts";
export {
  describePullRequestError,
  describeRequestError,
  FollowUpStepError,
} from "./github-errors.ts";
export { appendHistoryStore, HISTORY_BRANCH, HISTORY_FILE, readHistoryStore } from "./history-store.ts";
export * from "./limits.ts";
export { phaseCheckOutput, type RequestInfo } from "./messages.ts";
export { plainHeadline, plainText } from "./plain-text.ts";
export { DEFAULT_POLICY, patchPolicyFromConfig, UNKNOWN_CONFIG_POLICY } from "./policy-config.ts";
export { type PreparedFile, type PreparedPatch, preparePatch } from "./prepare.ts";
export {
  type PublishOptions,
  type PublishOutcome,
  type PublishTarget,
  publishCancelled,
  publishFailure,
  publishPhase,
  publishResults,
} from "./publish.ts";
export {
  findStickyComment,
  STICKY_MARKER,
  stickyBody,
  updateStickyComment,
  upsertStickyComment,
} from "./sticky-comment.ts";
export type { CheckConclusion, GitHubClient, PullTarget, RepoRef, RunLinks } from "./types.ts";
export { applyFileDiff, type FileDiff, PatchApplyError, parseUnifiedDiff } from "./unified-diff.ts";
export {
  type BundleClaims,
  BundleRefusedError,
  checkPatch,
  claimsOf,
  PATCH_MAX_BYTES,
  policyForPatch,
} from "./verify.ts";
