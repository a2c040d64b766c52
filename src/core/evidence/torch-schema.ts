/**
 * The schema of `results.json`'s `torch` field: the facts of the profiling run's PyTorch trace
 * (src/core/profile/torch-facts.ts `TorchFacts`, the one shape; this file validates it where it
 * crosses to the App and the Action). Times in ms unless a name says µs; shares in %.
 */
import { z } from "zod";
import type { TorchFacts } from "../profile/torch-facts.ts";

const site = z.object({ file: z.string(), line: z.number(), function: z.string() }).nullable();

/** `TorchFacts` as results.json holds it. */
export const torchFactsSchema = z.object({
  file: z.string(),
  recorder: z.enum(["kineto", "legacy", "nsys"]),
  device: z.string().nullable(),
  deviceMemBytes: z.number().nullable(),
  windowMs: z.number(),
  opCount: z.number(),
  topLevelOps: z.number(),
  opMedianSelfUs: z.number(),
  hostOpMs: z.number(),
  operators: z.array(
    z.object({
      name: z.string(),
      calls: z.number(),
      selfMs: z.number(),
      selfPct: z.number(),
      totalMs: z.number(),
      shapes: z.string().nullable(),
      site,
    }),
  ),
  scalarReads: z.object({
    count: z.number(),
    sites: z.array(z.object({ site: site.unwrap(), count: z.number() })),
  }),
  gpu: z
    .object({
      activeMs: z.number(),
      busyMs: z.number(),
      kernelMs: z.number(),
      idleMs: z.number(),
      idlePct: z.number(),
      idle: z.object({ hostWaitMs: z.number(), kernelWaitMs: z.number(), otherMs: z.number() }),
      idleAfterSyncMs: z.number(),
      kernelCount: z.number(),
      kernelMedianUs: z.number(),
      gapMedianUs: z.number(),
      launchCount: z.number(),
      launchMedianUs: z.number(),
      gaps: z.array(
        z.object({
          startMs: z.number(),
          durMs: z.number(),
          kind: z.enum(["host-wait", "kernel-wait", "other"]),
          site,
        }),
      ),
      hostDuringIdle: z.array(z.object({ name: z.string(), ms: z.number() })),
    })
    .nullable(),
  kernels: z.array(
    z.object({
      name: z.string(),
      calls: z.number(),
      totalMs: z.number(),
      medianUs: z.number(),
      pctOfKernelTime: z.number(),
      op: z.string().nullable(),
      site,
      flops: z.number().nullable(),
      bytes: z.number().nullable(),
    }),
  ),
  copies: z.array(
    z.object({
      kind: z.enum(["HtoD", "DtoH", "DtoD", "other"]),
      count: z.number(),
      bytes: z.number(),
      ms: z.number(),
      pageableBytes: z.number(),
    }),
  ),
  syncs: z.array(
    z.object({
      name: z.string(),
      count: z.number(),
      ms: z.number(),
      sites: z.array(z.object({ site: site.unwrap(), count: z.number(), ms: z.number() })),
    }),
  ),
  syncMs: z.number(),
});

// The schema and the type must stay one shape: each is assignable to the other.
const _toSchema = (t: TorchFacts): z.infer<typeof torchFactsSchema> => t;
const _fromSchema = (t: z.infer<typeof torchFactsSchema>): TorchFacts => t;
void _toSchema;
void _fromSchema;
