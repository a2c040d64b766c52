/**
 * The contract between the perfloop App and the runner (the Action), in one place: the dispatch
 * inputs, the run name, the artifact name, the live progress check run and the results.json schema
 * version. A change here is a
 * change of protocol: test/contract.test.ts pins every value and checks action.yml, the workflow
 * template (src/app/workflow-template.ts) and .github/workflows/perfloop.yml against it.
 */
export { RESULTS_SCHEMA } from "../core/evidence/results-schema.ts";
export {
  DISPATCH_INPUT_NAMES,
  DISPATCH_INPUTS,
  type DispatchInputName,
  type DispatchInputs,
  dispatchInputs,
  dispatchInputsSchema,
  GATE_DISPATCH_INPUTS,
  type GateArgs,
  InvalidRequestError,
  REQUIRED_DISPATCH_INPUTS,
  type RunArgs,
} from "./dispatch-inputs.ts";
export {
  artifactName,
  GATE_CHECK_NAME,
  PROGRESS_CHECK_NAME,
  parseProgressExternalId,
  parseRunName,
  progressExternalId,
  REQUEST_ID_PATTERN,
  RUN_NAME_EXPRESSION,
  type RunIdentity,
  runName,
} from "./run-identity.ts";
